"""The pages people open that are not the admin's: the front door, the site's icon and styles."""

from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "pages"
    verbose_name = "Pages"
