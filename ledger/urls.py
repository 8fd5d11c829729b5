from django.urls import path

from billing_project.shared.replica import replica_view
from ledger import apis, export_apis

urlpatterns = [
    path(
        "ledger/trial-balance",
        replica_view(apis.TrialBalanceApi.as_view()),
        name="ledger-trial-balance",
    ),
    path(
        "ledger/entries.csv",
        replica_view(export_apis.JournalCsvApi.as_view()),
        name="ledger-entries-csv",
    ),
    path("ledger/entries", replica_view(apis.EntriesApi.as_view()), name="ledger-entries"),
]
