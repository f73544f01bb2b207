"""Django admin for leads: browse, filter, search, and move leads through the pipeline."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import ngettext

from common.problems import ConflictError
from leads import selectors, services
from leads.models import EDITABLE_FIELDS, Lead, LeadStatus


class LifecycleFilter(admin.SimpleListFilter):
    """Live leads by default, as the API shows them; soft-deleted ones on request."""

    title = "lifecycle"
    parameter_name = "lifecycle"

    def lookups(self, request, model_admin):
        return [("deleted", "Deleted"), ("all", "All")]

    def queryset(self, request, queryset):
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "all":
            return queryset
        return queryset.filter(deleted_at__isnull=True)

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Live",
        }
        yield from list(super().choices(changelist))[1:]  # skip the stock "All" that means live


class LeadAdminForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = list(EDITABLE_FIELDS)

    def clean_email(self):
        # Django skips the e-mail constraint here (its condition reads deleted_at, which the
        # form does not edit), so the rule is checked explicitly, as the services do. The
        # field has already put the address in canonical form (leads.emails), as stored.
        email = self.cleaned_data["email"]
        if self.instance.deleted_at is None and selectors.lead_email_taken(
            email=email, exclude_id=self.instance.pk
        ):
            raise forms.ValidationError(services.DUPLICATE_EMAIL, code="duplicate_email")
        return email


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    form = LeadAdminForm
    list_display = [
        "__str__",
        "email",
        "company",
        "status",
        "source",
        "score",
        "owner",
        "created",
    ]
    list_filter = ["status", "source", ("owner", admin.RelatedOnlyFieldListFilter), LifecycleFilter]
    search_fields = ["first_name", "last_name", "email", "company"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    list_per_page = 50
    raw_id_fields = ["owner"]
    readonly_fields = [
        "id",
        "status",
        "created_at",
        "updated_at",
        "converted_at",
        "deleted_at",
        "created_by",
        "updated_by",
    ]
    fieldsets = [
        (None, {"fields": ["id", "first_name", "last_name", "email", "phone"]}),
        ("Company", {"fields": ["company", "title"]}),
        ("Pipeline", {"fields": ["status", "source", "score", "owner", "notes"]}),
        (
            "Audit",
            {
                "classes": ["collapse"],
                "fields": [
                    "created_at",
                    "created_by",
                    "updated_at",
                    "updated_by",
                    "converted_at",
                    "deleted_at",
                ],
            },
        ),
    ]
    actions = ["mark_contacted", "mark_lost", "soft_delete", "restore"]

    # What the add form shows: no id (the model's default would render a fresh uuid4 that is
    # not the one saved) and no audit fields (none are set before the lead exists).
    add_hidden_fields = {"id", "created_at", "created_by", "updated_at", "updated_by",
                         "converted_at", "deleted_at"}  # fmt: skip

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return super().get_fieldsets(request, obj)
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            fields = [field for field in options["fields"] if field not in self.add_hidden_fields]
            if fields:
                fieldsets.append((name, {**options, "fields": fields}))
        return fieldsets

    @admin.display(description="Created", ordering="created_at")
    def created(self, lead: Lead) -> str:
        # The date and minute in UTC: the full timestamp made the changelist wider than a
        # 1366-pixel screen; the change form shows it whole.
        return lead.created_at.strftime("%Y-%m-%d %H:%M")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # leads are soft-deleted; hard delete stays per lead
        return actions

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def _apply(self, request, leads: QuerySet[Lead], verb: str, operation) -> None:
        done, refused = 0, []
        for lead in leads:
            try:
                operation(lead)
            except ConflictError as error:
                refused.append(f"{lead}: {error.detail}")
            else:
                done += 1
        if done:
            message = ngettext("%(count)d lead %(verb)s.", "%(count)d leads %(verb)s.", done)
            self.message_user(request, message % {"count": done, "verb": verb}, messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    def _transition(self, request, leads, to_status: str, verb: str) -> None:
        self._apply(
            request,
            leads,
            verb,
            lambda lead: services.lead_transition(
                lead=lead, actor=request.user, to_status=to_status
            ),
        )

    @admin.action(description="Mark selected leads as contacted", permissions=["change"])
    def mark_contacted(self, request, queryset):
        self._transition(request, queryset, LeadStatus.CONTACTED, "marked contacted")

    @admin.action(description="Mark selected leads as lost", permissions=["change"])
    def mark_lost(self, request, queryset):
        self._transition(request, queryset, LeadStatus.LOST, "marked lost")

    @admin.action(description="Soft-delete selected leads", permissions=["change"])
    def soft_delete(self, request, queryset):
        self._apply(
            request,
            queryset,
            "deleted",
            lambda lead: services.lead_soft_delete(lead=lead, actor=request.user),
        )

    @admin.action(description="Restore selected leads", permissions=["change"])
    def restore(self, request, queryset):
        self._apply(
            request,
            queryset,
            "restored",
            lambda lead: services.lead_restore(lead=lead, actor=request.user),
        )
