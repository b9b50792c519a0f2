"""The dashboard in two languages: the German catalogue is complete and current with the code
(a string added without its translation fails here), placeholders survive translation, the
language comes from the `hub_lang` cookie or Accept-Language, the switch goes back only to
this site, and figures follow the language's formats while the exports do not."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape
from pathlib import Path
from random import Random

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

from connectors.dashboard import hub_words, i18n
from connectors.dashboard.number_formats import fast_formats, percent_pattern
from tests.connectors.dashboard.support import NOW, OPERATOR_KEY, DashboardHub, dashboard_hub

ROOT = Path(__file__).parents[3]
LOCALE = ROOT / "connectors" / "dashboard" / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def test_every_string_has_a_german_translation_and_keeps_its_placeholders() -> None:
    template = _read(LOCALE / "messages.pot")
    german = _read(LOCALE / "de" / "LC_MESSAGES" / "messages.po", "de")
    assert len(_ids(template)) > 300
    assert _ids(template) <= _ids(german), "run `make i18n`"
    for message in template:
        if not message.id:
            continue
        found = german.get(message.id)
        assert found is not None and not found.fuzzy, message.id
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [found.string] if isinstance(found.string, str) else list(found.string)
        assert all(s.strip() for s in strings), message.id
        wanted = set(PLACEHOLDER.findall(" ".join(ids)))
        for translated in strings:
            # A plural's singular may say "one" instead of the count; nothing else may go.
            named = set(PLACEHOLDER.findall(translated))
            assert named <= wanted and (wanted - named) <= {"count", "n"}, message.id
            assert translated.count("%") == translated.count("%(") + 2 * translated.count("%%"), (
                message.id
            )  # no stray % that would break formatting


def test_the_catalogue_is_current_with_the_code() -> None:
    """What `make i18n` would extract now is exactly what the template catalogue holds."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "Suggestion": (2,)}  # as `make i18n` passes it
    extracted = {
        message if isinstance(message, str) else tuple(message)
        for _, _, message, _, _ in extract_from_dir(
            ROOT, method_map, options_map, keywords=keywords
        )
    }
    extracted = {m if isinstance(m, str) else m[:2] for m in extracted}
    assert extracted == _ids(_read(LOCALE / "messages.pot")), "run `make i18n` and translate"


def test_the_hub_sentences_marked_for_translation_are_the_services_own() -> None:
    sources = "".join(p.read_text() for p in (ROOT / "hub").rglob("*.py"))
    for sentence in hub_words.SENTENCES:
        assert f'"{sentence}"' in sources, sentence  # else the page shows it untranslated


def test_accept_language_is_negotiated_and_the_cookie_wins() -> None:
    assert i18n.accepted("fr-CH, fr;q=0.9, de;q=0.8, *;q=0.5") == ["fr-CH", "fr", "de"]
    assert i18n.accepted("en;q=0, de") == ["de"]
    assert i18n.choose(None, "fr-CH, fr;q=0.9, de;q=0.8", "en") == "de"
    assert i18n.choose(None, "de-AT", "en") == "de"
    assert i18n.choose(None, "EN-gb, de;q=0.5", "de") == "en"
    assert i18n.choose(None, "ja", "en") == "en"
    assert i18n.choose(None, "", "de") == "de"
    assert i18n.choose("en", "de", "de") == "en"
    assert i18n.choose("xx", "de", "en") == "de"  # an unknown cookie counts as none


def test_figures_follow_the_language() -> None:
    english, german = i18n.Numbers("en"), i18n.Numbers("de")
    assert (english.usd(1_234_500_000), german.usd(1_234_500_000)) == ("$1,234.50", "1.234,50\xa0$")
    assert (english.usd(4_150), german.usd(4_150)) == ("$0.00415", "0,00415\xa0$")
    assert (english.integer(1_234_567), german.integer(1_234_567)) == ("1,234,567", "1.234.567")
    assert (english.percent(0.125), german.percent(0.125)) == ("12.5%", "12,5\xa0%")
    assert (english.ms(2_100), german.ms(2_100), german.ms(850)) == ("2.10 s", "2,10 s", "850 ms")


async def test_pages_are_german_for_accept_language_or_the_cookie(dash: DashboardHub) -> None:
    async with dash.client(headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}) as client:
        login = await client.get("/login")
        assert '<html lang="de"' in login.text and "<h1>Anmelden</h1>" in login.text
    async with dash.client() as client:
        assert '<html lang="en"' in (await client.get("/login")).text
        await client.post("/login", data={"key": OPERATOR_KEY})
        client.cookies.set(i18n.COOKIE, "de")
        page = await client.get("/models")
        assert '<html lang="de"' in page.text and "<h1>Modellleistung</h1>" in page.text
        assert ">Übersicht</a>" in page.text and "Model performance" not in page.text
        # A placeholder filled in after translation, in the German sentence's own order.
        assert "Pro Deployment, 2026-11-01 bis 2026-11-20 (UTC)" in page.text
        client.cookies.set(i18n.COOKIE, "en")
        english = await client.get("/models", headers={"Accept-Language": "de"})
        assert "<h1>Model performance</h1>" in english.text  # the choice beats the browser


async def test_the_switch_sets_the_cookie_and_goes_back_only_to_this_site(
    dash: DashboardHub,
) -> None:
    async with dash.client() as client:
        switched = await client.get("/language", params={"lang": "de", "next": "/usage?tz=UTC"})
        assert (switched.status_code, switched.headers["location"]) == (303, "/usage?tz=UTC")
        cookie = switched.headers["set-cookie"]
        assert cookie.startswith("hub_lang=de;") and "SameSite=Lax" in cookie
        assert "<h1>Anmelden</h1>" in (await client.get("/login")).text
        for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example", "x"):
            refused = await client.get("/language", params={"lang": "en", "next": elsewhere})
            assert refused.headers["location"] == "/", elsewhere
        unknown = await client.get("/language", params={"lang": "xx", "next": "/login"})
        assert "set-cookie" not in unknown.headers
        # Every page links to both languages, back to itself.
        links = (await client.get("/login")).text
        assert 'href="/language?lang=en&amp;next=%2Flogin"' in links and 'lang="de"' in links


async def test_default_language_is_the_setting(sqlite_url: str) -> None:
    async with dashboard_hub(sqlite_url, connectors={"dashboard": {"default_language": "de"}}) as d:
        async with d.client() as client:
            assert "<h1>Anmelden</h1>" in (await client.get("/login")).text
            asked = await client.get("/login", headers={"Accept-Language": "en-US"})
            assert "<h1>Sign in</h1>" in asked.text


async def test_german_figures_on_the_page_and_the_same_exports(dash: DashboardHub) -> None:
    query = {"group_by": "model", "from": "2026-11-01", "to": "2026-11-20", "tz": "UTC"}
    async with dash.signed_in(dash.admin.key) as client:
        exported = [(await client.get(f"/usage.{kind}", params=query)).text
                    for kind in ("csv", "json")]  # fmt: skip
        client.cookies.set(i18n.COOKIE, "de")
        page = await client.get("/usage", params=query)
        total = (await client.get("/usage.json", params=query)).json()["total"]
        german = i18n.Numbers("de")
        assert f'data-total="cost">{german.usd(total["cost_micros"])}</td>' in page.text
        assert "Kosten (USD) nach Modell, 2026-11-01 bis 2026-11-20 (UTC)" in page.text
        assert '<th scope="row" colspan="1">Gesamt</th>' in page.text
        again = [(await client.get(f"/usage.{kind}", params=query)).text
                 for kind in ("csv", "json")]  # fmt: skip
        assert again == exported  # exports do not depend on the language
        # The dashboard's own refusals are translated, their values kept; JSON stays English.
        bad = await client.get("/usage", params={"tz": "Mars/Base"})
        assert bad.status_code == 400 and "Unbekannte Zeitzone 'Mars/Base'" in unescape(bad.text)
        missing = await client.get("/usage", params={"team": "globex"})
        assert missing.status_code == 404 and "Kein Team namens 'globex'." in unescape(missing.text)
        refused = await client.get("/usage.json", params={"tz": "Mars/Base"})
        assert refused.json()["error"]["message"].startswith("Unknown timezone 'Mars/Base'")


async def test_dates_and_times_in_tables_are_the_languages_and_machines_keep_iso(
    dash: DashboardHub,
) -> None:
    """Requests log, audit log, explorer day and hour rows, keys: dates in the page's
    language (in the timezone the page says), ISO in <time datetime> and in the exports."""
    english, german = i18n.Numbers("en"), i18n.Numbers("de")
    assert english.moment(NOW) == "Nov 20, 2026, 12:00:00\u202fPM"
    assert german.moment(NOW) == "20.11.2026, 12:00:00"
    assert (english.minute(NOW), german.minute(NOW)) == ("Nov 20, 2026, 12:00\u202fPM",
                                                         "20.11.2026, 12:00")  # fmt: skip
    assert (english.day(NOW.date()), german.day(NOW.date())) == ("Nov 20, 2026", "20.11.2026")
    assert i18n.machine_time(NOW.replace(tzinfo=None)) == "2026-11-20T12:00:00+00:00"
    berlin = {"from": "2026-11-20", "to": "2026-11-20", "tz": "Europe/Berlin"}
    async with dash.signed_in(dash.admin.key) as client:
        exported = [(await client.get(f"/usage.{kind}", params={**berlin, "group_by": by})).text
                    for kind in ("csv", "json") for by in ("day", "hour")]  # fmt: skip
        client.cookies.set(i18n.COOKIE, "de")
        # The newest request was an hour before NOW (11:00 UTC); the log is in UTC.
        log = (await client.get("/requests")).text
        assert '<time datetime="2026-11-20T11:00:00+00:00">20.11.2026, 11:00:00</time>' in log
        days = (await client.get("/usage", params={**berlin, "group_by": "day"})).text
        assert '<td><time datetime="2026-11-20">20.11.2026</time></td>' in days
        hours = (await client.get("/usage", params={**berlin, "group_by": "hour"})).text
        noon = '<td><time datetime="2026-11-20T12:00:00+01:00">20.11.2026, 12:00</time></td>'
        assert noon in hours  # 11:00 UTC is noon in Berlin
        again = [(await client.get(f"/usage.{kind}", params={**berlin, "group_by": by})).text
                 for kind in ("csv", "json") for by in ("day", "hour")]  # fmt: skip
        assert again == exported
        assert "2026-11-20T12:00:00+01:00" in [r["hour"] for r in json.loads(again[3])["rows"]]
        german_moment = r'<time datetime="[-0-9T:+]+">\d\d\.\d\d\.\d{4}, \d\d:\d\d(:\d\d)?</time>'
        audit = (await client.get("/team/audit")).text
        assert re.search(r'data-audit-id="\d+"><td>' + german_moment, audit)
        keys = (await client.get("/team/keys")).text
        created = f'<time datetime="{i18n.machine_time(NOW)}">{german.minute(NOW)}</time>'
        assert (await client.get(f"/team/keys/{dash.admin.id}")).text.count(created) == 1
        # No ISO text left in those tables (the audit log's Before/After cells show the
        # recorded values as they were recorded: data, not the page's dates).
        assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", keys + log)


async def test_german_forms_read_german_numbers_and_refuse_ambiguous_ones(
    dash: DashboardHub,
) -> None:
    """`25,50` is 25.50 dollars on a German page; `25.00` is no German amount and is refused
    rather than read as 2,500."""
    from tests.connectors.dashboard.admin_support import csrf, field_error

    hub, team = dash.running.hub, dash.running.team
    async with dash.signed_in(dash.admin.key) as client:
        client.cookies.set(i18n.COOKIE, "de")
        token = await csrf(client, "/team/limits")
        quota = {"csrf": token, "scope": "team", "window": "month", "tokens": "2.000.000"}
        refused = await client.post("/team/quotas", data=quota | {"cost_usd": "25.00"})
        assert refused.status_code == 400
        assert "Betrag in US-Dollar" in field_error(refused.text, "quota-cost_usd")
        saved = await client.post("/team/quotas", data=quota | {"cost_usd": "1.250,125 $"})
        assert saved.status_code == 303
        [row] = await hub.teams.quotas_for("team", team.id)
        assert (row.cost_limit_micros, row.token_limit) == (1_250_125_000, 2_000_000)
        page = await client.get("/team/limits")
        assert "1.250,125\xa0$" in page.text and "2.000.000" in page.text
        assert "acme · Admin" in page.text  # the role's name, translated
        members = await client.get("/team/members")
        assert '<option value="viewer">Betrachter</option>' in members.text
        too_many = await client.post(
            "/team/rate-limits", data={"csrf": token, "scope": "team", "rpm": "3.000.000.000"}
        )
        assert "von 1 bis 2.147.483.647" in field_error(too_many.text, "rate-rpm")


async def test_the_lockout_says_its_minutes_in_the_right_plural(sqlite_url: str) -> None:
    lockout = {"lockout_failures": 1, "lockout_minutes": 1}
    async with dashboard_hub(sqlite_url, connectors={"dashboard": lockout}) as d:
        async with d.client(headers={"Accept-Language": "de"}) as client:
            await client.post("/login", data={"key": "wrong"})
            locked = await client.post("/login", data={"key": "wrong again"})
            assert "versuchen Sie es in 1 Minute noch einmal." in locked.text
        async with d.client() as client:  # the same address, still locked out, in English
            english = await client.post("/login", data={"key": "wrong"})
            assert "Too many failed sign-ins; try again in 1 minute." in english.text


def test_fast_number_formats_equal_babels() -> None:
    """The figures a page formats without Babel (number_formats.py) are Babel's, character
    for character, in every language: integers, decimals, percentages and money, with the
    roundings (half to even) at their edges."""
    rng = Random(16)
    for language in i18n.LANGUAGES:
        locale = i18n.Locale.parse(language)
        fast = fast_formats(locale)
        assert fast is not None, language
        for _ in range(2_000):
            n = rng.choice((rng.randrange(10**4), rng.randrange(10**13)))
            assert fast.integer(n) == format_decimal(n, locale=locale)
            x = rng.choice((n / 1000, n / 8, round(rng.random(), 3), rng.random() * 10**6))
            digits = rng.randrange(3)
            assert fast.decimal(x, max(1, digits)) == format_decimal(
                x, format="#,##0." + "0" * max(1, digits), locale=locale
            )
            assert fast.percent_of(x / 1000, digits) == format_percent(
                x / 1000, percent_pattern(locale, digits), locale=locale
            )
            money = Decimal(rng.randrange(10_000, 10**13)) / 1_000_000
            assert fast.usd(money) == format_currency(money, "USD", locale=locale)


async def test_chart_axes_and_day_tables_write_dates_in_the_language_and_timezone(
    dash: DashboardHub,
) -> None:
    """Under a column chart each day or hour is the language's short form in the page's
    timezone (no ISO text), the bars' titles the table's; the Overview's and the model page's
    day tables are <time> elements like the explorer's."""
    english, german = i18n.Numbers("en"), i18n.Numbers("de")
    assert (english.short_day(NOW.date()), german.short_day(NOW.date())) == ("Nov 20", "20. Nov.")
    assert (english.short_minute(NOW), german.short_minute(NOW)) == ("Nov 20, 12:00\u202fPM",
                                                                     "20. Nov., 12:00")  # fmt: skip
    kolkata = {"from": "2026-11-19", "to": "2026-11-20", "tz": "Asia/Kolkata"}
    axis = re.compile(r'text-anchor="middle">([^<]*)</text>')
    async with dash.signed_in(dash.admin.key) as client:
        days = (await client.get("/usage", params={**kolkata, "group_by": "day"})).text
        assert axis.findall(days) == ["Nov 19", "Nov 20"]
        client.cookies.set(i18n.COOKIE, "de")
        days = (await client.get("/usage", params={**kolkata, "group_by": "day"})).text
        assert axis.findall(days) == ["19. Nov.", "20. Nov."]
        assert "<title>19.11.2026: " in days
        hours = (await client.get("/usage", params={**kolkata, "group_by": "hour"})).text
        labels = axis.findall(hours)
        assert labels and all(re.fullmatch(r"(19|20)\. Nov\., \d\d:00", x) for x in labels)
        # 11:00 UTC is 16:30 in Kolkata: its local hour is 16:00.
        assert "<title>20.11.2026, 16:00: " in hours
        assert not re.search(r"\d{4}-\d\d-\d\d", "".join(axis.findall(days + hours)))
        overview = (await client.get("/")).text
        assert '<th scope="row"><time datetime="2026-11-01">01.11.2026</time></th>' in overview
        assert axis.findall(overview)[0] == "1. Nov."
        models = (await client.get("/models", params={**kolkata})).text
        assert '<th scope="row"><time datetime="2026-11-19">19.11.2026</time></th>' in models
        assert axis.findall(models) == ["19. Nov.", "20. Nov."]
