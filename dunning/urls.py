from django.urls import path

from dunning import apis

urlpatterns = [
    # The tenant detail is routed here (not in subscriptions.urls): it carries the tenant's
    # open-dunning summary, which only dunning knows.
    path(
        "tenants/<str:tenant_id>", apis.TenantDetailWithDunningApi.as_view(), name="tenant-detail"
    ),
    path("dunning/cases", apis.DunningCaseListApi.as_view(), name="dunning-cases"),
    path(
        "dunning/cases/<str:case_id>",
        apis.DunningCaseDetailApi.as_view(),
        name="dunning-case-detail",
    ),
    path("dunning/cases/<str:case_id>/pause", apis.DunningCasePauseApi.as_view()),
    path("dunning/cases/<str:case_id>/resume", apis.DunningCaseResumeApi.as_view()),
    path("dunning/cases/<str:case_id>/retry", apis.DunningCaseRetryApi.as_view()),
    path("dunning/cases/<str:case_id>/write-off", apis.DunningCaseWriteOffApi.as_view()),
    path("dunning/policy", apis.DunningPolicyApi.as_view(), name="dunning-policy"),
    path("entitlements", apis.EntitlementsApi.as_view(), name="entitlements"),
]
