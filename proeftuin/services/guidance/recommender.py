"""The route recommender: five answers (is there a market, is research needed, the value, the time,
a pilot first) become one to three routes in order, each with its reason, plus whether PIO may
co-fund and points of attention. A short rule set, shown in words on the page.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from proeftuin.enums import ProcurementRoute
from proeftuin.services import InvalidInput
from proeftuin.services.guidance.catalogue import Catalogue, euro

MARKET_CHOICES = ("exists", "partly", "none")
RND_CHOICES = ("yes", "no", "unsure")
MAX_ROUTES = 3
RND_MONTHS = 12  # R&D routes rarely deliver a working solution sooner

# The rules in words, shown on the page so the recommendation can be checked by a person.
RULES = (
    _l("Research and development needed: pre-commercial procurement or an innovation partnership "
       "(pre-commercial procurement first when you want to test first in a pilot)."),
    _l("Not sure whether research is needed: start with a market consultation."),
    _l("Solutions exist and no research is needed: a market consultation, then a competitive procedure "
       "with negotiation (or an open procedure when you can describe the need completely)."),
    _l("Solutions exist only in part: a market consultation, then a competitive procedure with negotiation "
       "or a competitive dialogue to adapt them."),
    _l("Nothing exists yet but no research is needed: a market consultation, a competitive dialogue or a "
       "design contest for concepts and plans."),
    _l("Estimated value below the Belgian threshold for a negotiated procedure without prior publication, "
       "and no research needed: that procedure is proposed too (first when solutions exist)."),
    _l("Estimated value at or above the European threshold: the contract must be published across the EU."),
    _l("Research, development or innovation involved: the Flemish programme for innovative procurement "
       "(PIO) may guide and co-fund it."),
)


@dataclass(frozen=True)
class Answers:
    """The questionnaire's answers."""

    market: str  # exists | partly | none: do solutions exist on the market?
    rnd: str  # yes | no | unsure: is research and development needed?
    value_eur: int  # estimated value, excluding VAT
    months: int  # months until a working solution is needed
    pilot: bool  # test first in a pilot?

    def __post_init__(self) -> None:
        if self.market not in MARKET_CHOICES:
            raise InvalidInput(_("Choose an answer."), "market")
        if self.rnd not in RND_CHOICES:
            raise InvalidInput(_("Choose an answer."), "rnd")
        if self.value_eur < 0:
            raise InvalidInput(_("Enter an amount of zero or more."), "value")
        if self.months < 1:
            raise InvalidInput(_("Enter at least one month."), "months")


@dataclass(frozen=True)
class Advice:
    route: ProcurementRoute
    reason: str


@dataclass
class Recommendation:
    routes: list[Advice] = field(default_factory=list)
    pio: bool = False
    pio_reason: str = ""
    notes: list[str] = field(default_factory=list)

    def add(self, route: ProcurementRoute, reason: str) -> None:
        if len(self.routes) < MAX_ROUTES and all(a.route != route for a in self.routes):
            self.routes.append(Advice(route, reason))

    def insert(self, index: int, route: ProcurementRoute, reason: str) -> None:
        """Put a route at a position, pushing the last one out when the list is full."""
        if any(a.route == route for a in self.routes):
            return
        self.routes.insert(min(index, len(self.routes)), Advice(route, reason))
        del self.routes[MAX_ROUTES:]


def recommend(answers: Answers, catalogue: Catalogue) -> Recommendation:
    """Recommend one to three procurement routes, in order, with the reason for each.

    Args:
        answers: the questionnaire's answers.
        catalogue: the route file, for its thresholds.

    Returns:
        The routes with reasons, whether PIO may co-fund, and points of attention.
    """
    r = Recommendation()
    low = catalogue.threshold("be_negotiated_without_publication")
    eu = catalogue.threshold("eu_supplies_services_sub_central")
    below_low = answers.value_eur < low
    R = ProcurementRoute

    if answers.rnd == "yes":
        pcp = (R.PRE_COMMERCIAL, _(
            "Research and development are needed: pre-commercial procurement buys them in phases from several "
            "companies and ends with a test in practice. Buying the solution afterwards is a separate procedure."))
        partnership = (R.INNOVATION_PARTNERSHIP, _(
            "Research and development are needed and you want to buy the result: an innovation partnership "
            "combines development and purchase in one procedure."))
        first, second = (pcp, partnership) if answers.pilot else (partnership, pcp)
        r.add(*first)
        r.add(*second)
        if answers.months < RND_MONTHS:
            r.add(R.MARKET_CONSULTATION, _(
                "You need a working solution within %(months)d months, while research usually takes longer: "
                "a market consultation shows whether that is realistic.", months=answers.months))
    elif answers.rnd == "unsure":
        r.add(R.MARKET_CONSULTATION, _(
            "You are not sure whether research is needed: a market consultation shows what exists and what "
            "still has to be developed."))
        if answers.market == "exists":
            r.add(R.COMPETITIVE_NEGOTIATION, _(
                "If the consultation confirms that solutions exist, negotiation lets you adapt them to your need."))
        else:
            r.add(R.PRE_COMMERCIAL, _(
                "If the consultation shows that research is needed, pre-commercial procurement lets several "
                "companies develop and test solutions."))
            r.add(R.COMPETITIVE_DIALOGUE, _(
                "If existing solutions can be adapted, a competitive dialogue works out the best one with the "
                "candidates."))
    elif answers.market == "exists":
        if below_low:
            r.add(R.NEGOTIATED_LOW_VALUE, _(
                "Solutions exist and the estimated value (%(value)s) is below the threshold for a negotiated "
                "procedure without prior publication (%(threshold)s): ask several companies for a quote.",
                value=euro(answers.value_eur), threshold=euro(low)))
        r.add(R.MARKET_CONSULTATION, _(
            "Solutions exist: a market consultation shows who offers them, at what price, and brings in start-ups "
            "you do not know yet."))
        r.add(R.COMPETITIVE_NEGOTIATION, _(
            "Negotiation lets candidates adapt existing solutions to your need; if you can describe the need "
            "completely, an open procedure also fits."))
    elif answers.market == "partly":
        r.add(R.MARKET_CONSULTATION, _(
            "Solutions exist only in part: a market consultation shows how far existing products get you."))
        r.add(R.COMPETITIVE_NEGOTIATION, _(
            "Existing solutions need adapting: negotiation lets candidates improve their offers."))
        r.add(R.COMPETITIVE_DIALOGUE, _(
            "If you cannot yet describe the technical means, a competitive dialogue works them out with the "
            "candidates."))
    else:  # nothing on the market, and no research needed
        r.add(R.MARKET_CONSULTATION, _(
            "Nothing exists on the market yet: check with a market consultation that no research is needed."))
        r.add(R.COMPETITIVE_DIALOGUE, _(
            "A competitive dialogue works out a new, complex solution together with the candidates."))
        r.add(R.DESIGN_CONTEST, _(
            "A design contest collects concepts or plans and rewards the best ones; the winner can receive the "
            "follow-up contract."))

    if below_low and answers.rnd != "yes" and answers.market != "exists":
        reason = (_("The estimated value (%(value)s) is below %(threshold)s: a small paid pilot can be bought "
                    "without prior publication; the purchase afterwards needs its own procedure.",
                    value=euro(answers.value_eur), threshold=euro(low)) if answers.pilot else
                  _("The estimated value (%(value)s) is below %(threshold)s: a negotiated procedure without prior "
                    "publication is possible.", value=euro(answers.value_eur), threshold=euro(low)))
        r.insert(1, R.NEGOTIATED_LOW_VALUE, reason)

    if answers.value_eur >= eu:
        r.notes.append(_("The estimated value reaches the European threshold (%(threshold)s): the contract must "
                         "be published across the EU, with the time limits of the directive.", threshold=euro(eu)))
    if answers.pilot and answers.rnd != "yes":
        r.notes.append(_("Plan the follow-up purchase when you plan the pilot: a pilot does not give the start-up "
                         "a right to the contract."))

    innovation = answers.rnd in ("yes", "unsure") or answers.market in ("partly", "none")
    if innovation:
        r.pio = True
        r.pio_reason = (_("Research and development are involved: PIO may guide and co-fund the procurement.")
                        if answers.rnd == "yes" else
                        _("The solution is (partly) new: PIO may guide the procurement and co-fund research, "
                          "testing or a pilot."))
    if not r.routes:  # the rules above always add one; this keeps the promise if they change
        r.add(R.MARKET_CONSULTATION, _("Start by exploring the market."))
    return r
