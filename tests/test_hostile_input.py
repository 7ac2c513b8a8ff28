"""Hostile input never breaks a page (issue 7): every route x every role with huge and negative
integers, NUL, CR/LF, 10 kB strings and unknown enum values in URL parts and query strings, and the
main forms posted with the same; plus one regression test per case that once gave a 500.

The walker reuses the access matrix's world (muniA, muniB, suA, suB, facilitator, admin and A's
objects) and its policy table for the ids of real objects.
"""
from __future__ import annotations

import json
import math
import re
import shutil
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from proeftuin.extensions import db
from tests.conftest import USING_POSTGRES, login
from tests.test_access_matrix import POLICY, PRINCIPALS, _prepare

# 2**31 overflows PostgreSQL's INTEGER id columns, 2**63 a BIGINT and SQLite; 5000 digits int() itself
URL_INTS = ("2147483648", "2147483647", str(2**63), str(10**30), "9" * 5000, "-1", "0")
TEN_KB = "x" * 10_000
HOSTILE_STRINGS = ("\x00", "a\r\nb", TEN_KB, "unknown-value", "\u00b2", "2147483648", str(2**63), str(10**30),
                   "-5", "nan", "1e400", "%", "'; --")
QUERY_PARAMS = ("page", "per_page", "q", "status", "theme", "region", "language", "suggestion", "ids", "kind",
                "sort", "challenge", "buyer_group", "municipality", "province", "area", "period", "band", "age",
                "maturity", "mine", "overdue", "next")


def _get_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule)


# Fixture objects for URL variables, for routes the policy table does not (yet) list.
ARG_FIXTURES = {"challenge_id": "published", "experiment_id": "experiment", "kpi_id": "kpi",
                "measurement_id": "measurement", "application_id": "application",
                "suggestion_id": "accepted_suggestion", "question_id": "question", "group_id": "buyer_group",
                "organisation_id": "org_suB", "slug": "slug_suA"}


def _real_args(app, rule, values) -> dict:
    """The URL variables of a real fixture object for this rule (from the policy table if listed)."""
    if not rule.arguments:
        return {}
    entry = POLICY.get(rule.endpoint)
    if entry is not None:
        try:
            endpoint, args = app.url_map.bind("localhost").match(entry[1].format(**values), method=entry[0])
        except Exception:
            endpoint, args = None, {}
        if endpoint == rule.endpoint:
            return args
    fallback = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        default = 1 if isinstance(converter, IntegerConverter) else "funnel" if name == "dataset" else "x"
        fallback[name] = values.get(ARG_FIXTURES.get(name, ""), default)
    return fallback


def _hostile_urls(app, rule, real: dict) -> list[str]:
    adapter = app.url_map.bind("localhost")
    urls = []
    for name in sorted(rule.arguments):
        converter = rule._converters[name]
        is_int = isinstance(converter, IntegerConverter)
        for bad in URL_INTS if is_int else HOSTILE_STRINGS:
            if is_int:
                # built by hand: the converters refuse to build what they would not match
                url = rule.rule
                for other, value in real.items():
                    url = url.replace(f"<{_spec(rule, other)}>", str(bad if other == name else value))
            else:
                url = adapter.build(rule.endpoint, {**real, name: bad}, force_external=False)
            urls.append(url)
    return urls


def _spec(rule, name: str) -> str:
    """`int:challenge_id` for `challenge_id`: the variable as written in the rule."""
    match = re.search(r"<((?:[a-z]+(?:\([^)]*\))?:)?" + re.escape(name) + r")>", rule.rule)
    return match.group(1)


def _client_for(app, world, principal):
    client = app.test_client()
    if principal != "anon":
        assert login(client, world.emails[principal]).status_code == 302
    return client


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_walk_every_route_with_hostile_values(app, world, principal):
    values = _prepare(app, world)
    client = _client_for(app, world, principal)
    failures = []

    def check(method: str, url: str, **kwargs) -> None:
        where = f"{principal} {method} {url[:100]!r} {str(kwargs.get('query_string', ''))[:100]!r}"
        try:
            response = client.open(url, method=method, **kwargs)
        except Exception as exc:  # TESTING propagates what would be a 500
            failures.append(f"{where}: {type(exc).__name__}: {str(exc)[:150]}")
            return
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code}")

    rules = _get_rules(app)
    for index, rule in enumerate(rules):
        if rule.endpoint == "auth.logout":
            continue
        real = _real_args(app, rule, values)
        is_get = "GET" in rule.methods
        for url in _hostile_urls(app, rule, real):
            check("GET" if is_get else "POST", url)
        if not is_get:
            continue
        base = app.url_map.bind("localhost").build(rule.endpoint, real)
        for value in HOSTILE_STRINGS:
            check("GET", base, query_string={p: value for p in QUERY_PARAMS})
        role = PRINCIPALS.index(principal)
        for offset, param in enumerate(QUERY_PARAMS):
            # each parameter alone (one in three per role, so every one is tried by two or three
            # roles), the value rotating with the route and the role
            if (offset + role) % 3 == 0:
                value = HOSTILE_STRINGS[(index + offset + role) % len(HOSTILE_STRINGS)]
                check("GET", base, query_string={param: value})
    assert not failures, "\n".join(failures)


# ---- the main forms posted with hostile values -----------------------------------------------

NUL_MESSAGE = "(NUL)"  # in the message of every language
CHALLENGE = {"title": "A proper challenge title", "summary": "A summary that is long enough to pass.",
             "problem": "The problem, described at length so that the form accepts it as it is." * 2,
             "desired_outcome": "A measurable improvement for everyone.", "themes": "mobility", "language": "nl",
             "procurement_route": "undecided"}
PROFILE = {"tagline": "Sensors for school streets", "themes": "mobility", "maturity": "pilot_ready",
           "language": "en", "capabilities": "We count traffic at school gates with privacy-friendly sensors."}
KPI = {"name": "Cars at the gate", "unit": "cars", "baseline": "120", "target": "60", "direction": "lower"}
QUESTION = {"title": "May we award directly?", "question": "A question with enough words to be sent.",
            "area": "procedures", "challenge_id": "", "language": "nl"}

# (principal, url template, valid data, single-line fields, other text fields, number fields)
FORMS = [
    ("muniA", "/challenges/new", CHALLENGE, ["title"], ["summary", "problem"], []),
    ("muniA", "/challenges/{draft}/edit", CHALLENGE, ["title"], ["desired_outcome"], []),
    ("suA", "/startups/profile", PROFILE, ["tagline"], ["capabilities"], []),
    ("suA", "/applications/{application}/edit", {"proposal": "Our proposal, long enough to be accepted. " * 2},
     [], ["proposal"], []),
    ("suB", "/challenges/{published}/apply", {"proposal": "Our proposal, long enough to be accepted. " * 2},
     [], ["proposal"], []),
    ("muniA", "/experiments/{experiment}/kpis", KPI, ["name", "unit"], [], ["baseline", "target"]),
    ("muniA", "/experiments/{experiment}/kpis/{kpi}/edit", KPI, ["name", "unit"], [], ["baseline", "target"]),
    ("suA", "/experiments/{experiment}/measurements",
     {"m-kpi": "{kpi}", "m-measured_on": "{today}", "m-value": "7", "m-note": "Counted by hand"},
     ["m-note"], [], ["m-value"]),
    ("muniA", "/questions/new", QUESTION, ["title"], ["question"], []),
]
NON_FINITE = ("nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e999")


def _field_error(body: str, field: str) -> bool:
    return f'id="{field}-error"' in body


def _kept(body: str, typed: str) -> bool:
    from markupsafe import escape

    return str(escape(typed)) in body


@pytest.mark.parametrize("principal, template, valid, single_line, texts, numbers", FORMS,
                         ids=[f"{row[0]} {row[1]}" for row in FORMS])
def test_main_forms_refuse_hostile_values_and_keep_the_input(app, world, principal, template, valid, single_line,
                                                              texts, numbers):
    values = _prepare(app, world)
    client = _client_for(app, world, principal)
    url = template.format(**values)
    valid = {k: v.format(**values) for k, v in valid.items()}
    failures = []

    def post(field: str, typed: str, expect_error: bool):
        response = client.post(url, data={**valid, field: typed})
        body = response.get_data(as_text=True)
        where = f"{field}={typed[:30]!r}"
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code}")
        elif expect_error and not (response.status_code == 200 and _field_error(body, field) and _kept(body, typed)):
            failures.append(f"{where}: {response.status_code}, no error shown with the input kept")
        return response, body

    for field in [*single_line, *texts, *numbers]:
        response, body = post(field, "Before\x00after", expect_error=False)
        if response.status_code != 400 or NUL_MESSAGE not in body:
            failures.append(f"{field} with NUL: {response.status_code}, expected 400 with the message")
        post(field, "TYPED-" + TEN_KB, expect_error=len(TEN_KB) > 9_000 and field not in ("proposal",))
    for field in single_line:
        for typed in ("Line one\r\nBcc: x@example.org", "Line one\nline two", "Tab\tand escape\x1b", "A\u2028B"):
            post(field, typed, expect_error=True)
    for field in numbers:
        for typed in NON_FINITE:
            post(field, typed, expect_error=True)
    assert not failures, "\n".join(failures)


# ---- one regression test per case that gave a 500 ---------------------------------------------

# 1. nan / inf as a KPI baseline, target or measurement

def test_non_finite_kpi_numbers_are_a_form_error_and_never_stored(app, world):
    from proeftuin.models import Kpi, KpiMeasurement

    values = _prepare(app, world)
    client = _client_for(app, world, "muniA")
    experiment = values["experiment"]
    for field in ("baseline", "target"):
        response = client.post(f"/experiments/{experiment}/kpis", data={**KPI, "name": "Nan KPI", field: "nan"})
        assert response.status_code == 200 and _field_error(response.get_data(as_text=True), field)
    response = client.post(f"/experiments/{experiment}/measurements",
                           data={"m-kpi": values["kpi"], "m-measured_on": values["today"], "m-value": "inf"})
    assert response.status_code == 200 and _field_error(response.get_data(as_text=True), "m-value")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Kpi).where(Kpi.name == "Nan KPI")) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KpiMeasurement)) == 1
    # the page still works for everyone concerned
    for principal in ("muniA", "suA", "facilitator"):
        assert _client_for(app, world, principal).get(f"/experiments/{experiment}").status_code == 200


def test_the_service_refuses_non_finite_kpi_numbers(app, world):
    from proeftuin.models import User
    from proeftuin.services import InvalidInput
    from proeftuin.services import experiments as service
    from proeftuin.services.experiments import KpiData

    values = _prepare(app, world)
    with app.test_request_context():
        user = db.session.get(User, world.ids["muniA"])
        for data, field in ((KpiData(name="K", unit="u", target=math.nan), "target"),
                            (KpiData(name="K", unit="u", target=1.0, baseline=math.inf), "baseline"),
                            (KpiData(name="K", unit="u", target=-math.inf), "target")):
            with pytest.raises(InvalidInput) as caught:
                service.add_kpi(user, values["experiment"], data)
            assert caught.value.field == field
            db.session.rollback()
        with pytest.raises(InvalidInput) as caught:
            service.add_measurement(user, values["experiment"], values["kpi"], date.today(), math.nan)
        assert caught.value.field == "value"


def test_a_float_field_refuses_what_is_not_an_ordinary_number(app):
    from werkzeug.datastructures import MultiDict
    from wtforms import Form

    from proeftuin.blueprints.fields import LocalFloatField

    class NumberForm(Form):
        number = LocalFloatField()

    with app.test_request_context():
        for typed in (*NON_FINITE, "1e16", "12,5,3"):
            form = NumberForm(formdata=MultiDict({"number": typed}))
            assert not form.validate() and form.number.data is None, typed
            assert form.number._value() == typed  # what was typed is shown again
        form = NumberForm(formdata=MultiDict({"number": "-12.5"}))
        assert form.validate() and form.number.data == -12.5


# 2. a line break (or another control character) in a single-line field

def test_a_line_break_in_a_title_is_refused_and_nothing_is_saved(app, world):
    from proeftuin.models import Challenge, ExpertQuestion

    values = _prepare(app, world)
    client = _client_for(app, world, "muniA")
    typed = "Smart bins\r\nBcc: everyone@example.org"
    response = client.post(f"/challenges/{values['draft']}/edit", data={**CHALLENGE, "title": typed})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and _field_error(body, "title") and _kept(body, typed)
    response = client.post("/questions/new", data={**QUESTION, "title": "Two\nlines"})
    assert response.status_code == 200 and _field_error(response.get_data(as_text=True), "title")
    with app.app_context():
        assert "\n" not in db.session.get(Challenge, values["draft"]).title
        assert not db.session.scalar(sa.select(ExpertQuestion).where(ExpertQuestion.title.contains("\n")))


def test_every_single_line_field_of_every_form_refuses_control_characters():
    """Every StringField of the forms is a SingleLineField (or a field that allows only fixed values)."""
    import importlib
    import inspect
    import pkgutil

    from flask_wtf import FlaskForm
    from wtforms import StringField, TextAreaField
    from wtforms.fields import EmailField, HiddenField, PasswordField, SearchField, URLField

    import proeftuin.blueprints as package
    from proeftuin.blueprints.fields import SingleLineField, WebsiteField, has_control_characters

    allowed = (SingleLineField, TextAreaField, HiddenField, PasswordField, EmailField, URLField, WebsiteField,
               SearchField)
    offenders = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"proeftuin.blueprints.{info.name}")
        for form_name, form_class in inspect.getmembers(module, inspect.isclass):
            if not issubclass(form_class, FlaskForm) or form_class.__module__ != module.__name__:
                continue
            for name, unbound in vars(form_class).items():
                field_class = getattr(unbound, "field_class", None)
                if field_class and issubclass(field_class, StringField) and not issubclass(field_class, allowed):
                    offenders.append(f"{info.name}.{form_name}.{name}")
    assert offenders == []
    for text in ("a\rb", "a\nb", "a\tb", "a\x1bb", "a\x85b", "a\u2028b", "a\u2029b", "a\x7fb"):
        assert has_control_characters(text), repr(text)
    assert not has_control_characters("Slimme vuilbakken in Gent – 2026 (€ 50.000)")


# 3. integers of 2**63 or more in a URL, `page=`, `?suggestion=` or `ids=`

@pytest.mark.parametrize("principal", ["anon", "muniA", "facilitator"])
def test_huge_ids_and_pages_are_404_or_400(app, world, principal):
    values = _prepare(app, world)
    client = _client_for(app, world, principal)
    for huge in ("2147483648", "9223372036854775808", str(10**30), "9" * 5000):
        for path in ("/challenges/{}", "/knowledge/{}", "/matches/{}", "/experiments/{}", "/questions/{}"):
            assert client.get(path.format(huge)).status_code in (404, 302), path
        for path in ("/challenges/", "/startups/", "/knowledge/"):
            status = client.get(path, query_string={"page": huge}).status_code
            assert status == (200 if huge == "2147483648" else 400), path  # a page past the last is empty
    assert client.get("/challenges/2147483647").status_code == 404  # the largest id: looked up, not found
    if principal == "anon":
        return
    huge = str(2**63)
    for path in ("/notifications/", "/experiments/", "/review/"):  # 403: the review queue is for staff
        assert client.get(path, query_string={"page": huge}).status_code in (400, 403), path
    assert client.get("/notifications/", query_string={"page": huge}).status_code == 400
    assert client.get("/experiments/", query_string={"page": huge}).status_code == 400
    if principal == "muniA":
        for name in ("suggestion", "challenge", "buyer_group"):
            for bad in (huge, "2147483648", "\u00b2", "-1", "1e3"):
                assert client.get("/experiments/new", query_string={name: bad}).status_code == 400, (name, bad)
        response = client.post("/experiments/new", data={"suggestion_id": huge, "buyer_group_id": huge})
        assert response.status_code == 200
    if principal == "facilitator":
        for bad in (huge, "2147483648", "\u00b2", "-3"):
            response = client.post("/review/decide", data={"ids": [str(values["suggestion"]), bad],
                                                           "decision": "accept"})
            assert response.status_code == 400, bad


def test_int_is_the_bounded_converter_and_the_query_helper_bounds(app):
    from proeftuin.services import InvalidInput
    from proeftuin.services.listing import MAX_ID, MAX_INT, id_arg, int_arg, page_args, parse_int
    from proeftuin.setup import BoundedIntConverter

    assert app.url_map.converters["int"] is BoundedIntConverter
    assert all(not isinstance(c, IntegerConverter) or isinstance(c, BoundedIntConverter)
               for rule in app.url_map.iter_rules() for c in rule._converters.values())
    assert parse_int(str(MAX_INT)) == MAX_INT and parse_int(" 12 ") == 12
    for bad in (str(MAX_INT + 1), "9" * 5000, "\u00b2", "\u0661", "1_000", "1e3", "", "-", "0x10"):
        with pytest.raises(InvalidInput):
            parse_int(bad)
    assert int_arg({}, "page", 1) == 1 and int_arg({"page": ""}, "page", 1) == 1
    assert id_arg({"suggestion": str(MAX_ID)}, "suggestion") == MAX_ID
    for bad in (str(MAX_ID + 1), "0", "-1"):
        with pytest.raises(InvalidInput):
            id_arg({"suggestion": bad}, "suggestion")
    adapter = app.url_map.bind("localhost")
    assert adapter.match(f"/challenges/{MAX_ID}")[1] == {"challenge_id": MAX_ID}
    for bad in (str(MAX_ID + 1), "9" * 5000):
        with pytest.raises(NotFound):
            adapter.match(f"/challenges/{bad}")
    assert page_args({"page": str(MAX_INT // 50)}, 20, 50) == (MAX_INT // 50, 20)
    with pytest.raises(InvalidInput):
        page_args({"page": str(MAX_INT // 20 + 1), "per_page": "20"}, 20, 50)


# 4. data the app does not know (the demo start-ups said language "de")

def test_the_demo_seed_loads_and_every_startup_and_challenge_page_renders(app):
    from proeftuin.models import Challenge, Organisation
    from proeftuin.services import seeding

    with app.app_context():
        seeding.load_demo()
        slugs = list(db.session.scalars(sa.select(Organisation.slug).where(Organisation.kind == "startup")))
        challenge_ids = list(db.session.scalars(sa.select(Challenge.id).where(Challenge.status != "draft")))
        draft_ids = list(db.session.scalars(sa.select(Challenge.id).where(Challenge.status == "draft")))
    assert len(slugs) == 60 and challenge_ids and draft_ids
    anon = app.test_client()
    staff = app.test_client()
    assert login(staff, seeding.DEMO_LOGINS[3].email, seeding.DEMO_PASSWORD).status_code == 302
    failures = []
    for client in (anon, staff):
        for path in [f"/startups/{s}" for s in slugs] + [f"/challenges/{c}" for c in challenge_ids]:
            status = client.get(path).status_code
            if status != 200:
                failures.append(f"{path}: {status}")
    for challenge_id in draft_ids:
        if staff.get(f"/challenges/{challenge_id}").status_code != 200:
            failures.append(f"draft {challenge_id}")
    assert failures == []


def test_the_demo_files_hold_only_values_the_app_knows():
    from proeftuin.services import seeding

    challenges, startups = seeding.read_demo_data()  # raises SeedDataError otherwise
    assert all("de" not in item.get("languages", []) for item in startups)


def test_the_seeder_refuses_unknown_values_with_a_clear_message(app, runner, monkeypatch, tmp_path):
    from proeftuin.models import Organisation
    from proeftuin.services import seeding

    data_dir = tmp_path / "data"
    shutil.copytree(seeding.DATA_DIR, data_dir)
    startups = json.loads((data_dir / "demo_startups.json").read_text(encoding="utf-8"))
    startups[0]["languages"] = ["en", "de"]
    startups[1]["region"] = "atlantis"
    (data_dir / "demo_startups.json").write_text(json.dumps(startups), encoding="utf-8")
    monkeypatch.setattr(seeding, "DATA_DIR", data_dir)
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code != 0
    assert f"demo_startups.json: {startups[0]['key']}: languages: unknown value 'de'" in result.output
    assert f"{startups[1]['key']}: region: unknown value 'atlantis'" in result.output
    with app.app_context():
        assert not db.session.scalar(sa.select(Organisation).where(Organisation.is_demo))


def test_a_stored_value_the_app_does_not_know_renders_as_itself(app, world):
    from proeftuin.enums import Language
    from proeftuin.models import StartupProfile

    with app.app_context():
        profile = db.session.get(StartupProfile, world.ids["profile"])
        profile.languages = ["en", "de"]
        profile.regions_served = ["atlantis"]
        db.session.commit()
        assert Language.label_of("de") == "de" and Language.label_of(None) == ""
    for principal in ("anon", "suA", "admin"):
        response = _client_for(app, world, principal).get(f"/startups/{world.slugs['suA']}")
        assert response.status_code == 200
        assert "atlantis" in response.get_data(as_text=True)


# 5. a NUL character in a query string, a form or a JSON body

def test_a_nul_character_is_refused_with_400_and_a_message(app, world):
    values = _prepare(app, world)
    anon = app.test_client()
    for path, query in (("/challenges/", {"q": "bins\x00"}), ("/startups/", {"q": "\x00"}),
                        ("/knowledge/", {"area\x00": "x"}), ("/auth/login", {"next": "/\x00"})):
        response = anon.get(path, query_string=query)
        assert response.status_code == 400 and NUL_MESSAGE in response.get_data(as_text=True), path
    assert anon.get("/startups/a%00b").status_code == 400
    response = anon.post("/auth/login", data={"email": "a\x00@example.org", "password": "x"})
    assert response.status_code == 400 and NUL_MESSAGE in response.get_data(as_text=True)
    client = _client_for(app, world, "muniA")
    response = client.post("/challenges/new", data={**CHALLENGE, "problem": CHALLENGE["problem"] + "\x00"})
    assert response.status_code == 400
    response = client.post(f"/experiments/{values['experiment']}/notes", json={"text": ["fine", {"k": "\x00"}]})
    assert response.status_code == 400
    # other control characters are no reason to refuse a search
    assert anon.get("/challenges/", query_string={"q": "bins\x01"}).status_code == 200


# 6. an unknown procurement route posted to an experiment

def test_an_unknown_procurement_route_is_a_form_error(app, world):
    from proeftuin.models import Experiment

    values = _prepare(app, world)
    client = _client_for(app, world, "muniA")
    experiment = values["experiment"]
    assert client.post(f"/experiments/{experiment}/status", data={"target": "evaluated"}).status_code == 302
    assert client.post(f"/experiments/{experiment}/decision", data={"decision": "go"}).status_code == 302
    for route in ("bogus", "undecided", TEN_KB, "Pre_Commercial"):
        response = client.post(f"/experiments/{experiment}/procurement",
                               data={"route": route, "value": "1000", "awarded": "unknown"})
        assert response.status_code == 200, route
        assert _field_error(response.get_data(as_text=True), "route")
    response = client.post(f"/experiments/{experiment}/procurement",
                           data={"route": "pre_commercial", "value": "5000000000", "awarded": "unknown"})
    assert response.status_code == 200 and _field_error(response.get_data(as_text=True), "value")
    with app.app_context():
        assert db.session.get(Experiment, experiment).procurement_route in (None, "undecided")
    response = client.post(f"/challenges/{values['draft']}/guidance/route", data={"route": "bogus"})
    assert response.status_code in (200, 400)
    response = client.post(f"/challenges/{values['draft']}/edit", data={**CHALLENGE, "procurement_route": "bogus"})
    assert response.status_code == 200 and _field_error(response.get_data(as_text=True), "procurement_route")


def test_a_non_finite_number_stored_earlier_does_not_break_the_experiment_page(app, world):
    """PostgreSQL keeps NaN and infinity in a float column (SQLite turns NaN into NULL)."""
    from proeftuin.models import Kpi

    values = _prepare(app, world)
    cases = [(math.nan, 95.0), (120.0, math.inf), (-math.inf, math.inf)]
    if USING_POSTGRES:  # SQLite would store the NaN as NULL, which the column refuses
        cases.append((math.nan, math.nan))
    for baseline, value in cases:
        with app.app_context():
            kpi = db.session.get(Kpi, values["kpi"])
            kpi.baseline = baseline
            kpi.measurements[0].value = value
            db.session.commit()
        for principal in ("muniA", "suA"):
            response = _client_for(app, world, principal).get(f"/experiments/{values['experiment']}")
            assert response.status_code == 200, (baseline, value, principal)
