"""A realistic demo day: one Amsterdam hub, a dispatcher, drivers and ~40 pickups."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.accounts.services import create_user
from app.extensions import db
from app.hubs.models import Hub
from app.hubs.services import create_hub, find_hub_by_code
from app.labels.services import customer_url
from app.pickups.models import Pickup, PickupStatus
from app.pickups.services import assign_pickup, create_pickup, update_pickup

DEMO_PASSWORD = "backhaul-demo"
TIMEZONE = "Europe/Amsterdam"

# Real streets, approximate coordinates of a house on them.
STREETS = [
    ("Prinsengracht", "1016 HN", 52.3752, 4.8840), ("Herengracht", "1015 BN", 52.3775, 4.8905),
    ("Keizersgracht", "1016 DZ", 52.3722, 4.8867), ("Elandsgracht", "1016 TX", 52.3690, 4.8800),
    ("Haarlemmerstraat", "1013 EL", 52.3803, 4.8890), ("Westerstraat", "1015 MK", 52.3785, 4.8823),
    ("Rozengracht", "1016 NH", 52.3739, 4.8810), ("Overtoom", "1054 HX", 52.3608, 4.8690),
    ("Kinkerstraat", "1053 DV", 52.3660, 4.8670), ("Bilderdijkstraat", "1053 KN", 52.3685, 4.8700),
    ("De Clercqstraat", "1052 NH", 52.3715, 4.8640), ("Jan Evertsenstraat", "1056 EA", 52.3686, 4.8450),
    ("Admiraal de Ruijterweg", "1056 GA", 52.3750, 4.8480), ("Bos en Lommerweg", "1055 DK", 52.3810, 4.8530),
    ("Van Baerlestraat", "1071 AP", 52.3580, 4.8800), ("Ferdinand Bolstraat", "1072 LK", 52.3540, 4.8920),
    ("Albert Cuypstraat", "1072 CV", 52.3555, 4.8950), ("Ceintuurbaan", "1072 GC", 52.3530, 4.8960),
    ("Van Woustraat", "1074 AD", 52.3520, 4.9040), ("Rijnstraat", "1078 RA", 52.3450, 4.9040),
    ("Scheldestraat", "1078 GJ", 52.3460, 4.8930), ("Beethovenstraat", "1077 JH", 52.3440, 4.8760),
    ("Amstelveenseweg", "1075 XM", 52.3530, 4.8570), ("Stadionweg", "1077 SB", 52.3450, 4.8680),
    ("Linnaeusstraat", "1093 EK", 52.3600, 4.9260), ("Dapperstraat", "1093 BS", 52.3630, 4.9270),
    ("Javastraat", "1094 HB", 52.3640, 4.9380), ("Czaar Peterstraat", "1018 PR", 52.3690, 4.9280),
    ("Plantage Middenlaan", "1018 DD", 52.3660, 4.9150), ("Sarphatistraat", "1018 GM", 52.3620, 4.9100),
    ("Utrechtsestraat", "1017 VP", 52.3620, 4.8970), ("Weesperzijde", "1091 EE", 52.3560, 4.9100),
    ("Middenweg", "1097 BL", 52.3560, 4.9400), ("Kastelenstraat", "1082 EB", 52.3380, 4.8580),
    ("Buikslotermeerplein", "1025 XL", 52.3990, 4.9360), ("Van der Pekstraat", "1031 CN", 52.3880, 4.9080),
    ("Spaarndammerstraat", "1013 SW", 52.3880, 4.8800), ("Zeeburgerdijk", "1094 AH", 52.3670, 4.9450),
    ("KNSM-laan", "1019 LA", 52.3770, 4.9500), ("Osdorpplein", "1068 EL", 52.3590, 4.8000),
    ("Meer en Vaart", "1068 LG", 52.3560, 4.7960), ("Jan Tooropstraat", "1062 BK", 52.3630, 4.8330),
]
FIRST = ["Sanne", "Daan", "Fatima", "Mohammed", "Emma", "Lucas", "Yara", "Noah", "Julia", "Sem", "Aylin",
         "Milan", "Zoë", "Bram", "Lotte", "Thijs", "Nina", "Mehmet", "Anouk", "Jesse", "Sophie", "Ravi", "Iris",
         "Chen", "Priya", "Lars", "Amira", "Kofi", "Eva", "Tomasz"]
LAST = ["de Vries", "Jansen", "Bakker", "El Amrani", "Visser", "Smit", "Meijer", "de Boer", "Yılmaz", "Mulder",
        "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "Kowalski", "Dekker", "Brouwer", "Nguyen",
        "Wang", "Boateng", "Sharma", "van Leeuwen", "Koç"]
CATALOGUE = [
    ("PHN-IP13-128", "iPhone 13, 128 GB, midnight", "Trade-in"),
    ("PHN-PX7-128", "Google Pixel 7, 128 GB", "Trade-in"),
    ("LTP-TP-X1C9", "ThinkPad X1 Carbon Gen 9 laptop", "Lease returned"),
    ("TAB-IPAD-10", "iPad 10th gen, 64 GB", "Changed mind"),
    ("AUD-WH1000", "Sony WH-1000XM5 headphones", "Defective: left side silent"),
    ("SHO-RUN-43", "Running shoes, size 43", "Wrong size"),
    ("JKT-RAIN-M", "Rain jacket, M, navy", "Wrong colour"),
    ("COF-DELONGHI", "De'Longhi espresso machine", "Leaks water"),
    ("VAC-DYSON-V8", "Dyson V8 stick vacuum", "Battery fails"),
    ("MON-DELL-27", "Dell 27\" monitor", "Dead pixels"),
    ("KID-BIKE-16", "Children's bike, 16\"", "Outgrown (trade-in)"),
    ("CHR-OFFICE", "Office chair, black mesh", "Damaged in transport"),
    ("BAT-EBIKE-36", "E-bike battery 36 V (recycling)", "Recycling"),
    ("TON-HP-305", "Empty toner cartridges (recycling)", "Recycling"),
    ("DRS-SUMMER-S", "Summer dress, S", "Does not fit"),
    ("MIX-KITCHEN", "KitchenAid stand mixer", "Changed mind"),
]


@dataclass
class DemoLogins:
    dispatcher: str
    drivers: list[str]
    hub_clerk: str
    admin: str | None = None  # set-up, disposition rules and the door's settings
    password: str = DEMO_PASSWORD
    customer_url: str | None = None


def database_is_empty() -> bool:
    return (db.session.scalar(select(func.count()).select_from(User)) or 0) == 0


def load_demo_data(*, drivers: int = 3, pickups: int = 40, day: date | None = None, seed: int = 7) -> DemoLogins:
    """Create the demo hub, staff and one day of pickups (idempotent for the hub and users)."""
    rng = random.Random(seed)
    tz = ZoneInfo(TIMEZONE)
    day = day or datetime.now(tz).date()

    hub = find_hub_by_code("AMS1") or create_hub(
        code="AMS1", name="Backhaul Hub Amsterdam West", timezone=TIMEZONE, address_line1="Transformatorweg 38",
        city="Amsterdam", postcode="1014 AK", country="NL", lat=52.3875, lon=4.8490,
    )
    dispatcher = _ensure_user("dispatcher@backhaul.test", "Dana Dispatcher", Role.DISPATCHER, hub)
    clerk = _ensure_user("hub@backhaul.test", "Hugo Hub", Role.HUB, hub)
    admin = _ensure_user("admin@backhaul.test", "Ada Admin", Role.ADMIN, hub)
    driver_names = ["Driss Driver", "Marta Kowalczyk", "Joost van den Berg", "Ana Souza", "Femi Adeyemi", "Lin Zhou"]
    driver_users = [
        _ensure_user(f"driver{n + 1}@backhaul.test", driver_names[n % len(driver_names)], Role.DRIVER, hub)
        for n in range(drivers)
    ]

    existing = db.session.scalar(select(func.count()).select_from(Pickup)) or 0
    for n in range(pickups):
        street, postcode, lat, lon = STREETS[n % len(STREETS)]
        house = rng.randint(1, 480)
        start_hour = 8 + (n * 10 // max(pickups, 1))
        start = datetime.combine(day, time(start_hour, rng.choice([0, 30])), tzinfo=tz)
        items = [
            {"sku": sku, "description": desc, "quantity": rng.choice([1, 1, 1, 2]), "reason": reason}
            for sku, desc, reason in rng.sample(CATALOGUE, rng.choice([1, 1, 2, 3]))
        ]
        pickup = create_pickup(
            {
                "reference": f"RMA-{day:%y%m%d}-{existing + n + 1:04d}",
                "customer": {
                    "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "phone": f"+31 6 {rng.randint(10000000, 99999999)}",
                    "email": f"customer{existing + n + 1}@example.com",
                },
                "address": {
                    "line1": f"{street} {house}", "line2": rng.choice([None, None, None, "3-hoog", "Apt. 2B"]),
                    "city": "Amsterdam", "postcode": postcode, "country": "NL",
                    "lat": round(lat + rng.uniform(-0.0015, 0.0015), 6), "lon": round(lon + rng.uniform(-0.0015, 0.0015), 6),
                },
                "window": {"start": start, "end": start + timedelta(hours=2)},
                "notes": rng.choice(["", "", "Ring twice.", "Heavy: bring the trolley.", "Customer works from home until 14:00."]),
                "items": items,
                "hub_id": hub.id,
            },
            actor=dispatcher,
            source="created",
        )
        # Most of the day is already planned; a few are left for the dispatcher to assign.
        if driver_users and n < pickups * 3 // 4:
            assign_pickup(pickup, driver_users[n % len(driver_users)], actor=dispatcher)
    if driver_users:
        _one_door(hub, dispatcher, driver_users[0], day, existing + pickups, tz)
    db.session.flush()
    # The newest pickup is one of the unassigned ones: its page shows every customer action.
    newest = db.session.scalar(select(Pickup).order_by(Pickup.id.desc()).limit(1))
    return DemoLogins(
        dispatcher=dispatcher.email, drivers=[d.email for d in driver_users], hub_clerk=clerk.email, admin=admin.email,
        customer_url=customer_url(newest) if newest else None,
    )


# Three returns at one office: on the phone they are one stop ("collect everything here").
ONE_DOOR = [
    ("Studio Noord (reception)", [("LAP-T14", "ThinkPad T14 laptop", "Lease ended")]),
    ("Kaan Architects", [("MON-27", '27" monitor', "Trade-in"), ("DOCK-USB", "USB-C dock", "Trade-in")]),
    ("Bureau Vondel", [("PHN-S23", "Samsung Galaxy S23", "Changed mind")]),
]


def _one_door(hub: Hub, dispatcher: User, driver: User, day: date, numbered_from: int, tz: ZoneInfo) -> None:
    start = datetime.combine(day, time(11, 0), tzinfo=tz)
    for n, (name, items) in enumerate(ONE_DOOR, start=1):
        pickup = create_pickup(
            {
                "reference": f"RMA-{day:%y%m%d}-{numbered_from + n:04d}",
                "customer": {"name": name, "phone": "+31 20 555 0142", "email": f"office{n}@example.com"},
                "address": {"line1": "Herengracht 182", "line2": f"{n}e verdieping", "city": "Amsterdam", "postcode": "1016 BR",
                            "country": "NL", "lat": 52.3747, "lon": 4.8880},
                "window": {"start": start, "end": start + timedelta(hours=2)},
                "notes": "Office building: ask at the front desk.",
                "items": [{"sku": sku, "description": desc, "quantity": 1, "reason": reason} for sku, desc, reason in items],
                "hub_id": hub.id,
            },
            actor=dispatcher,
            source="created",
        )
        assign_pickup(pickup, driver, actor=dispatcher)


def existing_demo_logins() -> DemoLogins | None:
    """The demo accounts already in the database, if the demo data was loaded."""
    emails = list(db.session.scalars(select(User.email).where(User.email.like("%@backhaul.test")).order_by(User.id)))
    if "dispatcher@backhaul.test" not in emails:
        return None
    drivers = [e for e in emails if e.startswith("driver")]
    admin = "admin@backhaul.test" if "admin@backhaul.test" in emails else None
    return DemoLogins(dispatcher="dispatcher@backhaul.test", drivers=drivers, hub_clerk="hub@backhaul.test", admin=admin)


def _ensure_user(email: str, name: str, role: Role, hub: Hub) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    return user or create_user(email=email, password=DEMO_PASSWORD, role=role, name=name, hub_id=hub.id)


def move_open_demo_pickups_to_today(today: date | None = None) -> int:
    """The demo is always today: open demo pickups of earlier days move to today, same time of day.

    A newcomer running ``make run`` a day later would otherwise find an empty route. Each move is a
    dispatcher's edit through the one writer (the timeline says so); finished pickups stay history.
    """
    hub = find_hub_by_code("AMS1")
    dispatcher = db.session.scalar(select(User).where(User.email == "dispatcher@backhaul.test"))
    if hub is None or dispatcher is None:
        return 0
    tz = ZoneInfo(hub.timezone or TIMEZONE)
    today = today or datetime.now(tz).date()
    start_of_today = datetime.combine(today, time(0), tzinfo=tz)
    stale = db.session.scalars(
        select(Pickup)
        # Still to do only: a failed attempt (the demo's history has many) is a past day's fact, and
        # moving it would pile up every earlier failure on today's board and reports.
        .where(Pickup.hub_id == hub.id, Pickup.status.in_((PickupStatus.UNASSIGNED, PickupStatus.ASSIGNED)), Pickup.window_start < start_of_today)
        .order_by(Pickup.id)
    )
    moved = 0
    for pickup in stale:
        local_start = pickup.window_start.astimezone(tz)
        start = datetime.combine(today, local_start.time(), tzinfo=tz)
        update_pickup(pickup, {"window": {"start": start, "end": start + (pickup.window_end - pickup.window_start)}}, actor=dispatcher)
        moved += 1
    return moved

