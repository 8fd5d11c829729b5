"""The admin home (UNFOLD["DASHBOARD_CALLBACK"])."""


def dashboard_callback(request, context):
    # The dj-stripe mirror is folded away in the sidebar; the home page does not list it either.
    context["app_list"] = [a for a in context.get("app_list", []) if a["app_label"] != "djstripe"]
    return context
