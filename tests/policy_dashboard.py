"""Access policy of the dashboard: facilitators and admins only (pages and CSV downloads)."""
from __future__ import annotations

from tests.test_access_matrix import only

STAFF_ONLY_200 = only({"facilitator": 200, "admin": 200})

POLICY = {
    "dashboard.index": ("GET", "/dashboard/", None, STAFF_ONLY_200),
    "dashboard.export": ("GET", "/dashboard/funnel.csv", None, STAFF_ONLY_200),
}
