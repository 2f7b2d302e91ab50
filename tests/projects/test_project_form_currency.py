"""The new-project form tells its script each currency's decimals (from the CLDR via Babel)."""

from __future__ import annotations

import re

PASSWORD = "correct horse battery"


def test_every_currency_choice_carries_its_decimals(client, api):
    api.user("requester", email="req@example.org")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post(
        "/login", data={"email": "req@example.org", "password": PASSWORD, "csrf_token": token}
    )
    page = client.get("/projects/new").text
    assert 'list="currency-choices"' in page and '<datalist id="currency-choices">' in page
    assert '<option value="JPY" label="Japanese Yen" data-decimals="0">' in page
    assert '<option value="USD" label="US Dollar" data-decimals="2">' in page
    assert '<option value="BHD" label="Bahraini Dinar" data-decimals="3">' in page
