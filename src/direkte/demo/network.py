"""The demo network: real Nordic cities, their time zones, coordinates and opening hours."""

from __future__ import annotations

from typing import Any

WEEKDAY_HOURS = {d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu")}

REGIONS: list[dict[str, Any]] = [
    {"code": "NO-EAST", "name": "Norway East", "countries": ["NO"], "time_zone": "Europe/Oslo"},
    {"code": "NO-WEST", "name": "Norway West", "countries": ["NO"], "time_zone": "Europe/Oslo"},
    {"code": "DK", "name": "Denmark", "countries": ["DK"], "time_zone": "Europe/Copenhagen"},
    {"code": "SE", "name": "Sweden", "countries": ["SE"], "time_zone": "Europe/Stockholm"},
    {"code": "FI", "name": "Finland", "countries": ["FI"], "time_zone": "Europe/Helsinki"},
]

# code, name, region, country, time zone, lat, lon, program, friday close, saturday
CENTERS: list[tuple[str, str, str, str, str, float, float, str, str, str | None]] = [
    (
        "OSL-01",
        "Oslo Alnabru",
        "NO-EAST",
        "NO",
        "Europe/Oslo",
        59.93,
        10.84,
        "pilot",
        "15:00",
        "10:00-14:00",
    ),
    ("OSL-02", "Oslo Skøyen", "NO-EAST", "NO", "Europe/Oslo", 59.92, 10.68, "on", "15:00", None),
    (
        "TRD-01",
        "Trondheim Tiller",
        "NO-EAST",
        "NO",
        "Europe/Oslo",
        63.36,
        10.38,
        "off",
        "15:00",
        None,
    ),
    ("BGO-01", "Bergen Åsane", "NO-WEST", "NO", "Europe/Oslo", 60.47, 5.32, "pilot", "15:00", None),
    (
        "SVG-01",
        "Stavanger Forus",
        "NO-WEST",
        "NO",
        "Europe/Oslo",
        58.88,
        5.72,
        "off",
        "15:00",
        None,
    ),
    (
        "CPH-01",
        "København Glostrup",
        "DK",
        "DK",
        "Europe/Copenhagen",
        55.67,
        12.40,
        "on",
        "14:00",
        None,
    ),
    (
        "AAR-01",
        "Aarhus Viby",
        "DK",
        "DK",
        "Europe/Copenhagen",
        56.13,
        10.16,
        "pilot",
        "14:00",
        None,
    ),
    ("ODE-01", "Odense Tarup", "DK", "DK", "Europe/Copenhagen", 55.41, 10.34, "off", "14:00", None),
    (
        "STO-01",
        "Stockholm Kungens Kurva",
        "SE",
        "SE",
        "Europe/Stockholm",
        59.27,
        17.92,
        "pilot",
        "16:00",
        "10:00-15:00",
    ),
    (
        "GOT-01",
        "Göteborg Torslanda",
        "SE",
        "SE",
        "Europe/Stockholm",
        57.72,
        11.80,
        "off",
        "16:00",
        None,
    ),
    ("HEL-01", "Helsinki Vantaa", "FI", "FI", "Europe/Helsinki", 60.29, 24.97, "on", "16:00", None),
    (
        "TMP-01",
        "Tampere Lakalaiva",
        "FI",
        "FI",
        "Europe/Helsinki",
        61.45,
        23.80,
        "off",
        "16:00",
        None,
    ),
]

COUNTRY_LANGUAGES = {"NO": ["nb", "en"], "DK": ["da", "en"], "SE": ["sv", "en"], "FI": ["en", "sv"]}

FIRST_NAMES = {
    "NO": ["Kari", "Ola", "Ingrid", "Lars", "Silje", "Håkon", "Nora", "Eirik", "Marte", "Sindre"],
    "DK": ["Mette", "Søren", "Freja", "Mads", "Ida", "Rasmus", "Sofie", "Jens", "Line", "Anders"],
    "SE": ["Anna", "Erik", "Linnea", "Johan", "Elin", "Oskar", "Maja", "Gustav", "Saga", "Nils"],
    "FI": ["Aino", "Mikko", "Helmi", "Juha", "Emilia", "Lauri", "Venla", "Antti", "Ella", "Ville"],
    "DE": ["Anke", "Jürgen", "Lena", "Tobias", "Katrin", "Stefan"],
}
LAST_NAMES = {
    "NO": ["Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Bakken", "Dahl"],
    "DK": ["Nielsen", "Jensen", "Pedersen", "Andersen", "Christensen", "Sørensen", "Møller"],
    "SE": ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Lindqvist", "Berg"],
    "FI": ["Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Lehtonen", "Heikkinen"],
    "DE": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker"],
}
COUNTRY_OF_LANGUAGE = {"nb": "NO", "da": "DK", "sv": "SE", "de": "DE", "en": "FI"}

# (prefix, digits after the country code, first digits that make a mobile number)
PHONE_PLANS = {
    "NO": ("+47", 8, "49"),
    "DK": ("+45", 8, "2"),
    "SE": ("+46", 9, "7"),
    "FI": ("+358", 9, "4"),
    "DE": ("+49", 11, "15"),
}

# (concern, category, codes, safety, findings, repair lines)
CONCERNS: list[dict[str, Any]] = [
    {
        "concern": "Grinding noise from the front brakes",
        "codes": ["C1101"],
        "safety": True,
        "findings": "Front pads worn to 2 mm, discs scored",
        "lines": [
            ("part", "Brake pads, front", 1, "1450.00"),
            ("part", "Brake discs, front", 2, "1890.00"),
            ("labour", "Brake service", "1.5", "1350.00"),
        ],
    },
    {
        "concern": "Range dropped by 20% since last month",
        "codes": ["P0AA6", "BMS_a079"],
        "safety": False,
        "findings": "Cell imbalance in module 3; isolation fault logged",
        "lines": [
            ("part", "Battery module", 1, "24800.00"),
            ("labour", "HV battery repair", 6, "1350.00"),
        ],
    },
    {
        "concern": "Air conditioning blows warm air",
        "codes": ["B1A4F"],
        "safety": False,
        "findings": "Refrigerant leak at the condenser",
        "lines": [
            ("part", "Condenser", 1, "5200.00"),
            ("part", "Refrigerant", "0.8", "950.00"),
            ("labour", "A/C repair", 2, "1350.00"),
        ],
    },
    {
        "concern": "Clunk from rear suspension over bumps",
        "codes": ["C0050"],
        "safety": True,
        "findings": "Rear upper control arm bushing worn",
        "lines": [
            ("part", "Upper control arm", 2, "2100.00"),
            ("labour", "Suspension", "2.5", "1350.00"),
        ],
    },
    {
        "concern": "Charging stops after a few minutes",
        "codes": ["P0D27", "UMC_w012"],
        "safety": False,
        "findings": "Charge port latch sensor intermittent",
        "lines": [
            ("part", "Charge port assembly", 1, "4600.00"),
            ("labour", "Charge port replacement", "1.5", "1350.00"),
        ],
    },
    {
        "concern": "Windscreen chip in driver's view",
        "codes": [],
        "safety": True,
        "findings": "Chip has spread into a 20 cm crack",
        "lines": [("part", "Windscreen", 1, "9800.00"), ("labour", "Glass fitting", 2, "1350.00")],
    },
    {
        "concern": "Annual service and tyre change",
        "codes": [],
        "safety": False,
        "findings": "Routine service; cabin filter due",
        "lines": [
            ("part", "Cabin filter", 1, "690.00"),
            ("labour", "Annual service", 1, "1350.00"),
        ],
    },
    {
        "concern": "Door handle does not present",
        "codes": ["B2234"],
        "safety": False,
        "findings": "Handle motor failed",
        "lines": [
            ("part", "Door handle motor", 1, "2450.00"),
            ("labour", "Door trim", 1, "1350.00"),
        ],
    },
]

MODELS = [
    ("Model 3", "5YJ3"),
    ("Model Y", "7SAY"),
    ("Model S", "5YJS"),
    ("Model X", "5YJX"),
    ("XC40 Recharge", "YV1X"),
    ("ID.4", "WVGZ"),
    ("Ioniq 5", "KMHK"),
    ("Polestar 2", "LPSV"),
]

WARRANTY_REASONS = {
    "covered": "WARRANTY_DEFECT",
    "not_covered": "WEAR_AND_TEAR",
    "goodwill_partial": "GOODWILL",
}
