"""All tables, imported here so Alembic and the tests see one complete metadata."""
from app.models.edition import Edition, EditionLookup
from app.models.import_run import ImportRejection, ImportRun
from app.models.outbox import OutboxMail
from app.models.reservation import Reservation
from app.models.search import SearchMiss, SearchWord
from app.models.shop import Network, Shop, shop_network
from app.models.staff import LoginFailure, StaffUser, staff_network, staff_shop
from app.models.stock import StockLine

__all__ = [
    "Edition",
    "EditionLookup",
    "ImportRejection",
    "ImportRun",
    "LoginFailure",
    "Network",
    "OutboxMail",
    "Reservation",
    "SearchMiss",
    "SearchWord",
    "Shop",
    "StaffUser",
    "StockLine",
    "shop_network",
    "staff_network",
    "staff_shop",
]
