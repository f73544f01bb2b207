"""Static files the way the container image serves them: collectstatic with the manifest
storage DJANGO_STATIC_MANIFEST selects, then gunicorn and WhiteNoise."""

import gzip
import json
import re

import brotli
import pytest

from tests.servers import free_port, gunicorn, http_request, migrated_database_url

pytestmark = [pytest.mark.django_db(transaction=True)]

SWAGGER_BUNDLE = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"


def test_collectstatic_writes_the_manifest_and_compressed_copies(collected_static):
    root, _ = collected_static
    manifest = json.loads((root / "staticfiles.json").read_text())["paths"]
    for name in ("admin/css/base.css", "intelliflow/site.css", "intelliflow/favicon.svg",
                 SWAGGER_BUNDLE):  # fmt: skip
        hashed = manifest[name]
        assert re.search(r"\.[0-9a-f]{12}\.", hashed), hashed
        original = (root / hashed).read_bytes()
        assert gzip.decompress((root / f"{hashed}.gz").read_bytes()) == original
        assert brotli.decompress((root / f"{hashed}.br").read_bytes()) == original
    bundle = root / manifest[SWAGGER_BUNDLE]
    assert (root / f"{manifest[SWAGGER_BUNDLE]}.br").stat().st_size < bundle.stat().st_size / 3


@pytest.fixture
def served(collected_static, live_database_env):
    _, env = collected_static
    port = free_port()
    with gunicorn(env | live_database_env, port, workers=1):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def live_database_env():
    return {"DATABASE_URL": migrated_database_url()}


def static_links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_hashed_names_served_immutable_and_compressed(served):
    status, body, _ = http_request("GET", f"{served}/admin/login/")
    assert status == 200
    links = static_links(body.decode())
    assert links
    for link in links:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", link), link
        status, _, headers = http_request("GET", served + link, headers={
            "Accept-Encoding": "gzip, deflate, br"})  # fmt: skip
        assert status == 200, link
        assert headers["Cache-Control"] == "max-age=315360000, public, immutable", link
    status, _, headers = http_request("GET", f"{served}/api/docs/")
    assert status == 200


def test_the_swagger_bundle_travels_brotli_or_gzip_compressed(served):
    _, html, _ = http_request("GET", f"{served}/api/docs/")
    (bundle,) = [link for link in static_links(html.decode()) if "swagger-ui-bundle" in link]
    status, plain, headers = http_request("GET", served + bundle)
    assert (status, headers.get("Content-Encoding")) == (200, None)
    _, compressed, headers = http_request("GET", served + bundle, headers={
        "Accept-Encoding": "gzip, deflate, br"})  # fmt: skip
    assert headers["Content-Encoding"] == "br"
    assert brotli.decompress(compressed) == plain
    assert len(compressed) < len(plain) / 3
    _, zipped, headers = http_request("GET", served + bundle, headers={"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped) == plain


def test_unhashed_names_and_the_root_icon_are_cached_briefly(served):
    status, _, headers = http_request("GET", f"{served}/static/admin/css/base.css")
    assert status == 200
    assert "immutable" not in headers["Cache-Control"]
    status, _, headers = http_request("GET", f"{served}/favicon.ico")
    assert (status, headers["Content-Type"]) == (200, "image/x-icon")
