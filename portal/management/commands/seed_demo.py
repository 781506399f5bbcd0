import json
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from portal.models import Unit
from portal.services import add_staff, save_unit
from procedures.importers import parse_catalogue
from procedures.models import CalendarDay
from procedures.services import add_calendar_day, import_procedures, seed_holidays

DATA_DIR = Path(settings.BASE_DIR)
WORLD_FILE = DATA_DIR / "portal" / "data" / "demo_world.json"
CATALOGUE_FILE = DATA_DIR / "procedures" / "data" / "catalogue.json"
DEMO_PASSWORD = "VanYen@2022"


class Command(BaseCommand):
    help = (
        "Load the demo world (Yên Bái province, Văn Yên district and its communes, the "
        "procedure catalogue, holidays and one account per role). Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--print-logins",
            action="store_true",
            help="only print the demo logins (role, username, password), tab-separated",
        )

    def handle(self, *args, print_logins: bool = False, **options):
        world = json.loads(WORLD_FILE.read_text(encoding="utf-8"))
        if print_logins:
            for account in world["accounts"]:
                self.stdout.write(f"{account['role']}\t{account['username']}\t{DEMO_PASSWORD}")
            for citizen in world["citizens"]:
                self.stdout.write(f"citizen\t{citizen['username']}\t{DEMO_PASSWORD}")
            return
        with transaction.atomic():
            units = self._units(world["units"])
            catalogue = parse_catalogue(
                CATALOGUE_FILE.read_text(encoding="utf-8"), filename="x.json"
            )
            result = import_procedures(catalogue=catalogue)
            year = timezone.localdate().year
            holidays = seed_holidays(years=range(2020, year + 2))
            for day in world["calendar_days"]:
                when = date.fromisoformat(day["date"])
                if not CalendarDay.objects.filter(date=when, unit__isnull=True).exists():
                    add_calendar_day(day=when, kind=day["kind"], name=day["name"])
            self._accounts(world, units)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo world ready: {len(units)} units, "
                f"{len(result.created) + len(result.updated)} procedures, "
                f"{holidays.created} holidays added, {len(world['accounts'])} staff accounts."
            )
        )

    def _units(self, rows: list[dict]) -> dict[str, Unit]:
        units: dict[str, Unit] = {}
        for row in rows:
            unit = Unit.objects.filter(code=row["code"]).first() or Unit(code=row["code"])
            unit.name = row["name"]
            unit.level = row["level"]
            unit.parent = units.get(row["parent"]) if row["parent"] else None
            unit.address = row.get("address", "")
            unit.phone = row.get("phone", "")
            units[row["code"]] = save_unit(unit=unit)
        return units

    def _accounts(self, world: dict, units: dict[str, Unit]) -> None:
        User = get_user_model()
        for account in world["accounts"]:
            user, _created = add_staff(
                username=account["username"],
                unit=units[account["unit"]],
                role=account["role"],
                password=DEMO_PASSWORD,
                email=account["email"],
                full_name=account["full_name"],
            )
            if account.get("superuser") and not user.is_superuser:
                user.is_superuser = user.is_staff = True
                user.save(update_fields=["is_superuser", "is_staff"])
        for citizen in world["citizens"]:
            user = User.objects.filter(username=citizen["username"]).first()
            if user is None:
                last, _sep, first = citizen["full_name"].rpartition(" ")
                user = User(
                    username=citizen["username"],
                    email=citizen["email"],
                    first_name=first,
                    last_name=last,
                )
                user.set_password(DEMO_PASSWORD)
                user.save()
