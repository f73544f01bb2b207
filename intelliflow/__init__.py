"""IntelliFlow CRM: a Django reference CRM backend with observability built in."""

__version__ = "0.1.0"
