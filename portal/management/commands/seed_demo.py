import json
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from dossiers.choices import Channel
from dossiers.history import create_history, history_exists
from dossiers.models import Dossier
from dossiers.services import (
    Applicant,
    receive_dossier,
    request_supplement,
    resolve_dossier,
    return_result,
    start_processing,
    submit_dossier,
)
from portal.models import Profile, Unit
from portal.services import add_staff, save_unit
from procedures.choices import OnlineLevel
from procedures.importers import parse_catalogue
from procedures.models import CalendarDay, Procedure
from procedures.services import add_calendar_day, import_procedures, seed_holidays
from reports.services import close_due_periods

DATA_DIR = Path(settings.BASE_DIR)
WORLD_FILE = DATA_DIR / "portal" / "data" / "demo_world.json"
CATALOGUE_FILE = DATA_DIR / "procedures" / "data" / "catalogue.json"
DEMO_PASSWORD = "VanYen@2022"  # demo accounts only, printed on purpose
DISTRICT = "000.00.15.H61"  # Văn Yên: the history is its district's and communes'
HISTORY_DOSSIERS = 50_000
HISTORY_MONTHS = 12
HISTORY_SEED = 2022
DEMO_STAFF = ["motcua", "chuyenvien", "motcua.mauA", "lanhdao.mauA"]
DEMO_APPLICANTS = [
    Applicant(name, f"0150{9000000 + i * 7919:08d}", f"09{12345670 + i * 1013:08d}", "", address)
    for i, (name, address) in enumerate(
        [
            ("Nguyễn Thị Mai", "Tổ dân phố số 3, thị trấn Mậu A"),
            ("Hoàng Văn Bình", "Thôn Trung Tâm, xã An Thịnh"),
            ("Lò Thị Châm", "Thôn Ba Chãng, xã Đông Cuông"),
            ("Triệu Văn Dũng", "Thôn Khe Dọc, xã Mậu Đông"),
            ("Phạm Thị Hằng", "Thôn 2, xã Yên Hợp"),
            ("Bàn Văn Khoa", "Thôn Trung Tâm, xã Ngòi A"),
            ("Đặng Thị Lan", "Thôn Đồng Tâm, xã Xuân Ái"),
            ("Vũ Văn Nam", "Thôn Trái Hút, xã Đông An"),
            ("Hà Thị Oanh", "Thôn Trung Tâm, xã Quang Minh"),
            ("Giàng A Páo", "Thôn Trung Tâm, xã Nà Hẩu"),
            ("Trần Văn Quý", "Thôn Trung Tâm, xã Đại Phác"),
            ("Lương Thị Sen", "Thôn Trung Tâm, xã Lâm Giang"),
        ]
    )
]


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
        parser.add_argument(
            "--history",
            type=int,
            default=HISTORY_DOSSIERS,
            metavar="N",
            help=(
                "dossiers of history to generate for Văn Yên over the last 12 months, once "
                f"(default {HISTORY_DOSSIERS}; 0: none)"
            ),
        )

    def handle(self, *args, print_logins: bool = False, history: int = HISTORY_DOSSIERS, **options):
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
            dossiers = self._dossiers(units)
        generated = self._history(units, history)
        # The past statutory months closed, as the worker's beat (hourly) would have done by
        # now: the reports and dashboard show closed periods from the first run.
        closing = close_due_periods()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo world ready: {len(units)} units, "
                f"{len(result.created) + len(result.updated)} procedures, "
                f"{holidays.created} holidays added, {len(world['accounts'])} staff accounts, "
                f"{dossiers} demo dossiers added, {generated} dossiers of history added, "
                f"{len(closing.closed)} report periods closed."
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
            existing = User.objects.filter(username=account["username"]).first()
            # Hashing a password takes most of a second: only for new accounts (or without
            # one), so that the seed run by every `dev.py run` stays quick.
            reset = existing is None or not existing.has_usable_password()
            user, _created = add_staff(
                username=account["username"],
                unit=units[account["unit"]],
                role=account["role"],
                password=DEMO_PASSWORD if reset else None,
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
            Profile.objects.get_or_create(
                user=user,
                defaults={
                    "full_name": citizen["full_name"],
                    "id_number": citizen.get("id_number", ""),
                    "phone": citizen.get("phone", ""),
                    "address": citizen.get("address", ""),
                    "email_verified_at": timezone.now(),
                },
            )

    def _dossiers(self, units: dict[str, Unit]) -> int:
        """A working day's worth of dossiers in every state, once: the worklist, the slips and
        the lookup have something to show on first run."""
        if Dossier.objects.exists():
            return 0
        User = get_user_model()
        staff = {name: User.objects.get(username=name) for name in DEMO_STAFF}
        citizen = User.objects.get(username="congdan")
        district = units["000.00.15.H61"]
        commune = units["000.01.15.H61"]
        created = 0
        for index, (unit, counter, officer) in enumerate(
            [(district, "motcua", "chuyenvien")] * 3 + [(commune, "motcua.mauA", "lanhdao.mauA")]
        ):
            procedures = list(Procedure.objects.active().filter(level=unit.level).order_by("code"))
            for step, procedure in enumerate((procedures * 2)[index * 3 :][:8]):
                applicant = DEMO_APPLICANTS[(index * 8 + step) % len(DEMO_APPLICANTS)]
                channel = [Channel.IN_PERSON, Channel.IN_PERSON, Channel.POSTAL][step % 3]
                if channel == Channel.POSTAL and not procedure.postal_allowed:
                    channel = Channel.IN_PERSON
                if step == 7 and procedure.online_level != OnlineLevel.NONE:
                    dossier = submit_dossier(
                        procedure=procedure, unit=unit, applicant=applicant, user=citizen
                    )
                    created += 1
                    continue
                dossier = receive_dossier(
                    procedure=procedure,
                    unit=unit,
                    channel=channel,
                    applicant=applicant,
                    by=staff[counter],
                    documents=[d.pk for d in procedure.documents.filter(required=True)],
                    postal_tracking_no=f"EL{100200300 + created}VN"
                    if channel == Channel.POSTAL
                    else "",
                    digitized_intake=step % 4 == 0,
                )
                created += 1
                self._advance(dossier, step, staff[counter], staff[officer])
        return created

    def _advance(self, dossier: Dossier, step: int, counter, officer) -> None:
        if step == 0:
            return
        dossier = start_processing(dossier=dossier, by=officer)
        if step == 2:
            request_supplement(
                dossier=dossier,
                by=officer,
                missing="Bản sao Giấy khai sinh có chứng thực",
                reason="Thành phần hồ sơ chưa đầy đủ theo quy định.",
            )
        elif step in (3, 4, 5):
            dossier = resolve_dossier(
                dossier=dossier,
                by=officer,
                result="Đã giải quyết, có kết quả",
                digitized_result=True,
            )
            if step >= 4:
                return_result(dossier=dossier, by=counter)

    def _history(self, units: dict[str, Unit], count: int) -> int:
        """Twelve full months of Văn Yên's dossiers before this one, and this month's days up
        to yesterday, once: the dashboard and the reports have something to show."""
        if count <= 0 or history_exists():
            return 0
        district = units[DISTRICT]
        area = [unit for unit in units.values() if unit.path.startswith(district.path)]
        now = timezone.now()
        today = timezone.localdate(now)
        months = today.year * 12 + today.month - 1 - HISTORY_MONTHS
        start = date(months // 12, months % 12 + 1, 1)
        end = today - timedelta(days=1)
        self.stdout.write(
            f"Generating {count:,} dossiers of history ({start:%d/%m/%Y}–{end:%d/%m/%Y}) …"
        )
        result = create_history(
            units=area, start=start, end=end, count=count, seed=HISTORY_SEED, now=now
        )
        return result.dossiers
