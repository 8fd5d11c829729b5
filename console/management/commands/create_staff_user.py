import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from console.roles import ROLES, roles_sync


class Command(BaseCommand):
    help = (
        "Create or update an admin (staff) user with one role: auditor (read-only), "
        "billing_operator or billing_admin. Prints the password when it made one up."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--password", help="default: keep the current one (new user: random)")
        parser.add_argument("--email", default="")

    @transaction.atomic
    def handle(self, *args, **options):
        username = options["username"].strip()
        if not username:
            raise CommandError("--username must not be blank.")
        if Group.objects.filter(name__in=ROLES).count() != len(ROLES):
            roles_sync()
        user, created = get_user_model().objects.get_or_create(username=username)
        if user.is_superuser:
            raise CommandError(f"{username} is a superuser: a role would not limit it.")
        user.is_staff = True
        user.is_active = True
        if options["email"]:
            user.email = options["email"]
        made_up = ""
        if options["password"]:
            user.set_password(options["password"])
        elif created:
            made_up = secrets.token_urlsafe(12)
            user.set_password(made_up)
        user.save()
        user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=options["role"]))
        user.groups.add(Group.objects.get(name=options["role"]))
        verb = "created" if created else "updated"
        self.stdout.write(f"{verb} staff user {username} with role {options['role']}")
        if made_up:
            self.stdout.write(f"password: {made_up}")
