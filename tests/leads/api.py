"""What the leads API tests share: the endpoint, a lead's URL, a valid new lead, the check
that a response is a complete problem body, and spellings of one address that must count as
duplicates. tests/security imports these too."""

import pytest

LEADS = "/api/v1/leads/"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "correlation_id"}


def detail_url(lead) -> str:
    return f"{LEADS}{lead.pk}/"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["instance"] == response.wsgi_request.path
    assert "Traceback" not in response.content.decode()
    return body


# (a live lead's address, another spelling of it): each must be refused as a duplicate.
EQUIVALENT_SPELLINGS = [
    pytest.param("ada@b\u00fccher.example", "ada@xn--bcher-kva.example", id="idn-then-punycode"),
    pytest.param("ada@xn--bcher-kva.example", "ADA@B\u00dcCHER.example", id="punycode-then-idn"),
    pytest.param("sam@example.com", "\u017fam@example.com", id="long-s-local-part"),
    pytest.param("ada@business.example", "ada@bu\u017finess.example", id="long-s-domain"),
    pytest.param("kim@example.com", "\u212aim@example.com", id="kelvin-sign"),
    pytest.param("ada@example.com", "\uff41\uff44\uff41@\uff25xample.com", id="fullwidth"),
    pytest.param("ada@example.com", "ada\uff20example.com", id="fullwidth-at"),
    pytest.param("ada@example.com", "ada@exa\u200bmple.com", id="zero-width-space"),
]


def new_lead(**overrides) -> dict:
    return {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", **overrides}
