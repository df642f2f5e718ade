"""Fixed word lists for the demo council.

Surnames, street and neighbourhood names are invented compounds of nature words, so that no demo
record can be mistaken for (or matched against) a real family. First names are common given names,
which identify nobody on their own.
"""

from __future__ import annotations

from typing import Final

FAMILY_SURNAMES: Final[tuple[str, ...]] = (
    "Acornvale", "Alderwick", "Amberfold", "Ashbrindle", "Bramblecombe", "Brackenshaw",
    "Briarmoss", "Buttercliffe", "Cinderwold", "Clovermere", "Cobblethorn", "Cowslipton",
    "Dapplemoor", "Dewberrow", "Dovecombe", "Elderglen", "Elmsworthy", "Emberleigh",
    "Fernhollow", "Finchbarrow", "Foxglade", "Glimmerton", "Gorsewick", "Hazelbrook",
    "Heatherholt", "Hollyfold", "Ivythorn", "Juniperfield", "Kestrelwick", "Kingcuppe",
    "Larkhollow", "Lichenby", "Lupinmere", "Mallowdene", "Meadowsweet", "Mistlecombe",
    "Nettlebrook", "Nightjarrow", "Oakhaven", "Orchidvale", "Pebbleford", "Pinecrest",
    "Plovermere", "Quillbury", "Quincewood", "Ravenspindle", "Rosethorne", "Rowanby",
    "Saffronwold", "Sedgewater", "Sorrelby", "Starlingford", "Tanglewood", "Teasleby",
    "Thistlewood", "Umberdale", "Vetchcombe", "Violetmere", "Wagtailby", "Willowmere",
    "Wrenhollow", "Yarrowby", "Yewbarrow", "Zephyrhill",
)  # fmt: skip

# Staff names come from a different list, so a worker never shares a surname with a family.
STAFF_SURNAMES: Final[tuple[str, ...]] = (
    "Abbotsmere", "Bellweather", "Brightwater", "Candlewick", "Copperfield", "Dunmarrow",
    "Evenbrook", "Fairweather", "Goldcrest", "Greenholme", "Hartwell", "Inglenook",
    "Kettleby", "Lanternby", "Millbrook", "Northwick", "Oxleaford", "Quarrington",
    "Redwing", "Silverdale", "Stonechat", "Thornbury", "Underhill", "Waymarsh",
    "Whitlowe", "Windrush", "Woodlark", "Yarnfield",
)  # fmt: skip

GIRLS_NAMES: Final[tuple[str, ...]] = (
    "Amelia", "Olivia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Freya", "Florence", "Sophia",
    "Grace", "Willow", "Evie", "Poppy", "Ella", "Aisha", "Maryam", "Zara", "Amara", "Nia",
    "Chloe", "Ruby", "Daisy", "Hana", "Layla", "Esme", "Phoebe", "Maya", "Aaliyah", "Zoe",
)  # fmt: skip

BOYS_NAMES: Final[tuple[str, ...]] = (
    "Noah", "Oliver", "George", "Muhammad", "Leo", "Arthur", "Oscar", "Harry", "Jack",
    "Theo", "Charlie", "Freddie", "Alfie", "Finley", "Henry", "Ibrahim", "Yusuf", "Kai",
    "Reuben", "Ezra", "Isaac", "Mason", "Zayn", "Tyler", "Jayden", "Ethan", "Kofi", "Luca",
    "Rory", "Samuel",
)  # fmt: skip

WOMENS_NAMES: Final[tuple[str, ...]] = (
    "Sarah", "Emma", "Rebecca", "Gemma", "Laura", "Hannah", "Kirsty", "Nadia", "Samira",
    "Joanne", "Claire", "Stacey", "Leanne", "Natalie", "Fatima", "Agnieszka", "Chantelle",
    "Priya", "Kelly", "Donna", "Shabana", "Abena", "Carla", "Melissa",
)  # fmt: skip

MENS_NAMES: Final[tuple[str, ...]] = (
    "Daniel", "James", "Ryan", "Liam", "Craig", "Imran", "Wayne", "Adam", "Mark", "Darren",
    "Tomasz", "Kwame", "Stuart", "Lee", "Jamal", "Paul", "Shane", "Asif", "Dean", "Carl",
    "Gareth", "Marcus", "Nathan", "Ricky",
)  # fmt: skip

STREET_NAMES: Final[tuple[str, ...]] = (
    "Acorn Rise", "Bluebell Road", "Bramble Close", "Cedar Grove", "Clover Lane",
    "Damson Walk", "Elderflower Way", "Fern Crescent", "Foxglove Avenue", "Hawthorn Drive",
    "Heather Court", "Honeysuckle Street", "Juniper Terrace", "Kingfisher Road",
    "Lavender Row", "Linnet Close", "Marigold Street", "Nightingale Way", "Orchard Lane",
    "Primrose Hill Road", "Quail Gardens", "Rowan Avenue", "Skylark Road", "Sorrel Street",
    "Teasel Close", "Thrush Lane", "Wisteria Grove", "Yellowhammer Walk",
)  # fmt: skip

NEIGHBOURHOODS: Final[tuple[str, ...]] = (
    "Acorn Vale", "Brookhollow", "Fernleigh", "Hazelmere", "Kestrel Park", "Larkfield",
    "Meadowbank", "Oakmere", "Rowan Heath", "Willowdene",
)  # fmt: skip

LANGUAGES: Final[tuple[tuple[str, int], ...]] = (
    ("English", 78), ("Urdu", 5), ("Punjabi", 3), ("Polish", 3), ("Bengali", 2),
    ("Somali", 2), ("Arabic", 2), ("Romanian", 2), ("Pashto", 1), ("Tigrinya", 1),
    ("Portuguese", 1),
)  # fmt: skip

RELIGIONS: Final[tuple[tuple[str | None, int], ...]] = (
    (None, 35), ("No religion", 25), ("Christian", 22), ("Muslim", 14), ("Sikh", 2),
    ("Hindu", 2),
)  # fmt: skip

# Postcode areas (and the districts used) by DfE LA code, for some councils that are one city;
# any other LA code falls back to Birmingham's B area, still a real-format postcode.
POSTCODE_AREAS: Final[dict[str, tuple[str, range]]] = {
    "330": ("B", range(1, 49)),  # Birmingham
    "331": ("CV", range(1, 7)),  # Coventry
    "336": ("WV", range(1, 15)),  # Wolverhampton
    "341": ("L", range(1, 38)),  # Liverpool
    "352": ("M", range(1, 41)),  # Manchester
    "373": ("S", range(1, 36)),  # Sheffield
    "380": ("BD", range(1, 16)),  # Bradford
    "383": ("LS", range(1, 29)),  # Leeds
    "391": ("NE", range(1, 16)),  # Newcastle upon Tyne
    "801": ("BS", range(1, 16)),  # Bristol
    "856": ("LE", range(1, 6)),  # Leicester
    "892": ("NG", range(1, 12)),  # Nottingham
    "204": ("E", range(1, 20)),  # Hackney
    "210": ("SE", range(1, 28)),  # Southwark
}
DEFAULT_POSTCODE_AREA: Final = ("B", range(1, 49))

# Letters allowed in the inward code (never C, I, K, M, O or V).
INWARD_LETTERS: Final = "ABDEFGHJLNPQRSTUWXYZ"
