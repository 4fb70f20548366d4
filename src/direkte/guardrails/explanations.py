"""What the customer reads about a guardrail decision, in their own language.

Dates are shown in the customer's locale and the center's time zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time

_TEXTS: dict[str, dict[str, str]] = {
    "routed.tier0": {
        "en": "Your service advisor {name} will answer by {due}. If you are not satisfied with the answer, you can escalate again.",
        "nb": "Servicerådgiveren din, {name}, svarer innen {due}. Er du ikke fornøyd med svaret, kan du eskalere igjen.",
        "da": "Din servicerådgiver, {name}, svarer senest {due}. Er du ikke tilfreds med svaret, kan du eskalere igen.",
        "sv": "Din servicerådgivare {name} svarar senast {due}. Är du inte nöjd med svaret kan du eskalera igen.",
        "de": "Ihre Serviceberatung ({name}) antwortet bis {due}. Sind Sie mit der Antwort nicht zufrieden, können Sie erneut eskalieren.",
    },
    "routed.tier2": {
        "en": "Your case is with {name}, the regional service manager. You will get a first answer by {due}.",
        "nb": "Saken din er hos {name}, regional servicesjef. Du får et første svar innen {due}.",
        "da": "Din sag er hos {name}, den regionale servicechef. Du får et første svar senest {due}.",
        "sv": "Ditt ärende ligger hos {name}, regional servicechef. Du får ett första svar senast {due}.",
        "de": "Ihr Anliegen liegt bei {name}, der regionalen Serviceleitung. Sie erhalten eine erste Antwort bis {due}.",
    },
    "held": {
        "en": "Your request will be read by our service team before it goes further. You will hear from us within one business day.",
        "nb": "Henvendelsen din blir lest av serviceteamet vårt før den går videre. Du hører fra oss innen én virkedag.",
        "da": "Din henvendelse bliver læst af vores serviceteam, før den går videre. Du hører fra os inden for én hverdag.",
        "sv": "Din begäran läses av vårt serviceteam innan den går vidare. Du hör av oss inom en arbetsdag.",
        "de": "Ihre Anfrage wird von unserem Serviceteam gelesen, bevor sie weitergeht. Sie hören innerhalb eines Werktags von uns.",
    },
    "frequency.under_limit": {
        "en": "You have escalated {limit} cases in the last 12 months, the most we take directly to managers. Your service advisor will help you with this one.",
        "nb": "Du har eskalert {limit} saker de siste 12 månedene, som er det meste vi tar direkte til ledere. Servicerådgiveren din hjelper deg med denne.",
        "da": "Du har eskaleret {limit} sager de seneste 12 måneder, hvilket er det højeste antal, vi tager direkte til ledere. Din servicerådgiver hjælper dig med denne.",
        "sv": "Du har eskalerat {limit} ärenden de senaste 12 månaderna, vilket är det högsta antal vi tar direkt till chefer. Din servicerådgivare hjälper dig med detta.",
        "de": "Sie haben in den letzten 12 Monaten {limit} Anliegen eskaliert, die Höchstzahl, die wir direkt an Führungskräfte geben. Ihre Serviceberatung hilft Ihnen bei diesem.",
    },
    "frequency.not_cooling_down": {
        "en": "Your last cases were decided recently, so for {cooldown} days new requests go to your service advisor first. Safety matters always reach a manager.",
        "nb": "De siste sakene dine ble avgjort nylig, så i {cooldown} dager går nye henvendelser først til servicerådgiveren din. Sikkerhetssaker når alltid en leder.",
        "da": "Dine seneste sager blev afgjort for nylig, så i {cooldown} dage går nye henvendelser først til din servicerådgiver. Sikkerhedssager når altid en leder.",
        "sv": "Dina senaste ärenden avgjordes nyligen, så i {cooldown} dagar går nya ärenden först till din servicerådgivare. Säkerhetsfrågor når alltid en chef.",
        "de": "Ihre letzten Anliegen wurden kürzlich entschieden, daher gehen neue Anfragen {cooldown} Tage lang zuerst an Ihre Serviceberatung. Sicherheitsfragen erreichen immer eine Führungskraft.",
    },
    "routed.tier1": {
        "en": "Your case is with {name}, the local service manager. You will get a first answer by {due}.",
        "nb": "Saken din er hos {name}, lokal servicesjef. Du får et første svar innen {due}.",
        "da": "Din sag er hos {name}, den lokale servicechef. Du får et første svar senest {due}.",
        "sv": "Ditt ärende ligger hos {name}, lokal servicechef. Du får ett första svar senast {due}.",
        "de": "Ihr Anliegen liegt bei {name}, der lokalen Serviceleitung. Sie erhalten eine erste Antwort bis {due}.",
    },
    "appeal_routed": {
        "en": "Your appeal is with {name}, the regional service manager. You will get a first answer by {due}.",
        "nb": "Klagen din er hos {name}, regional servicesjef. Du får et første svar innen {due}.",
        "da": "Din klage er hos {name}, den regionale servicechef. Du får et første svar senest {due}.",
        "sv": "Din överklagan ligger hos {name}, regional servicechef. Du får ett första svar senast {due}.",
        "de": "Ihr Einspruch liegt bei {name}, der regionalen Serviceleitung. Sie erhalten eine erste Antwort bis {due}.",
    },
    "folded": {
        "en": "You already have an open case about this; your request was added to it.",
        "nb": "Du har allerede en åpen sak om dette; henvendelsen din er lagt til i den.",
        "da": "Du har allerede en åben sag om dette; din henvendelse er føjet til den.",
        "sv": "Du har redan ett öppet ärende om detta; din begäran har lagts till i det.",
        "de": "Sie haben dazu bereits ein offenes Anliegen; Ihre Anfrage wurde ihm hinzugefügt.",
    },
    "not_eligible.program_running": {
        "en": "Direct escalation is not offered at this service center yet. Your service advisor will help you.",
        "nb": "Direkte eskalering tilbys ikke ved dette servicesenteret ennå. Servicerådgiveren din hjelper deg.",
        "da": "Direkte eskalering tilbydes endnu ikke på dette servicecenter. Din servicerådgiver hjælper dig.",
        "sv": "Direkt eskalering erbjuds ännu inte på denna serviceverkstad. Din servicerådgivare hjälper dig.",
        "de": "Die direkte Eskalation wird in diesem Servicecenter noch nicht angeboten. Ihre Serviceberatung hilft Ihnen.",
    },
    "not_eligible.visit_checked_in": {
        "en": "You can escalate once your car is checked in. Until then, your service advisor will help you.",
        "nb": "Du kan eskalere når bilen er sjekket inn. Til da hjelper servicerådgiveren din deg.",
        "da": "Du kan eskalere, når bilen er tjekket ind. Indtil da hjælper din servicerådgiver dig.",
        "sv": "Du kan eskalera när bilen är incheckad. Till dess hjälper din servicerådgivare dig.",
        "de": "Sie können eskalieren, sobald Ihr Auto eingecheckt ist. Bis dahin hilft Ihnen Ihre Serviceberatung.",
    },
    "not_eligible.within_window": {
        "en": "Cases can be escalated up to {days} days after the visit closed; this visit is past that. Your service advisor can still help.",
        "nb": "Saker kan eskaleres inntil {days} dager etter at besøket ble avsluttet; denne fristen er ute. Servicerådgiveren din kan fortsatt hjelpe.",
        "da": "Sager kan eskaleres op til {days} dage efter besøget blev afsluttet; fristen er overskredet. Din servicerådgiver kan stadig hjælpe.",
        "sv": "Ärenden kan eskaleras upp till {days} dagar efter att besöket avslutades; den tiden har passerat. Din servicerådgivare kan fortfarande hjälpa till.",
        "de": "Anliegen können bis {days} Tage nach Abschluss des Besuchs eskaliert werden; diese Frist ist abgelaufen. Ihre Serviceberatung hilft Ihnen weiterhin.",
    },
    "not_eligible.category_allowed": {
        "en": "This kind of request cannot be escalated. Your service advisor will help you.",
        "nb": "Denne typen henvendelse kan ikke eskaleres. Servicerådgiveren din hjelper deg.",
        "da": "Denne type henvendelse kan ikke eskaleres. Din servicerådgiver hjælper dig.",
        "sv": "Den här typen av ärende kan inte eskaleras. Din servicerådgivare hjälper dig.",
        "de": "Diese Art von Anliegen kann nicht eskaliert werden. Ihre Serviceberatung hilft Ihnen.",
    },
    "not_eligible.subject_of_visit": {
        "en": "What you chose does not belong to this visit. Pick the diagnosis, estimate or warranty decision from the visit.",
        "nb": "Det du valgte, hører ikke til dette besøket. Velg diagnosen, overslaget eller garantiavgjørelsen fra besøket.",
        "da": "Det valgte hører ikke til dette besøg. Vælg diagnosen, overslaget eller garantiafgørelsen fra besøget.",
        "sv": "Det du valde hör inte till det här besöket. Välj diagnosen, offerten eller garantibeslutet från besöket.",
        "de": "Ihre Auswahl gehört nicht zu diesem Besuch. Wählen Sie die Diagnose, den Kostenvoranschlag oder die Garantieentscheidung des Besuchs.",
    },
    "appeal.has_outcome": {
        "en": "You can appeal once the case has an outcome.",
        "nb": "Du kan klage når saken har fått et utfall.",
        "da": "Du kan klage, når sagen har fået et udfald.",
        "sv": "Du kan överklaga när ärendet har fått ett utfall.",
        "de": "Sie können Einspruch einlegen, sobald das Anliegen entschieden ist.",
    },
    "appeal.tier1_outcome": {
        "en": "This outcome was given by the regional service manager and cannot be appealed further.",
        "nb": "Dette utfallet er gitt av regional servicesjef og kan ikke påklages videre.",
        "da": "Dette udfald er givet af den regionale servicechef og kan ikke påklages yderligere.",
        "sv": "Detta utfall gavs av regional servicechef och kan inte överklagas vidare.",
        "de": "Diese Entscheidung traf die regionale Serviceleitung; ein weiterer Einspruch ist nicht möglich.",
    },
    "appeal.first_appeal": {
        "en": "This case has already been appealed once.",
        "nb": "Denne saken er allerede påklaget én gang.",
        "da": "Denne sag er allerede påklaget én gang.",
        "sv": "Detta ärende har redan överklagats en gång.",
        "de": "Gegen diese Entscheidung wurde bereits einmal Einspruch eingelegt.",
    },
    "appeal.within_window": {
        "en": "Appeals are possible for {days} days after the outcome; that time has passed.",
        "nb": "Det er mulig å klage i {days} dager etter utfallet; fristen er ute.",
        "da": "Det er muligt at klage i {days} dage efter udfaldet; fristen er overskredet.",
        "sv": "Det går att överklaga i {days} dagar efter utfallet; den tiden har passerat.",
        "de": "Ein Einspruch ist {days} Tage nach der Entscheidung möglich; diese Frist ist abgelaufen.",
    },
}

_FALLBACK = "en"


def explain(
    reason: str,
    language: str,
    *,
    due: datetime | None = None,
    time_zone: str = "UTC",
    name: str = "",
    days: int = 0,
    limit: int = 0,
    cooldown: int = 0,
) -> str:
    """The customer's explanation for a decision ``reason``, in ``language``."""
    texts = _TEXTS.get(reason) or _TEXTS.get(reason.split(".")[0] + ".", {})
    template = texts.get(language) or texts.get(_FALLBACK) or reason
    due_text = ""
    if due is not None:
        zone = ZoneInfo(time_zone)
        day = format_skeleton("yMMMEd", due, tzinfo=zone, locale=language)
        due_text = f"{day} {format_time(due, 'short', tzinfo=zone, locale=language)}"
    return template.format(
        name=name or "—", due=due_text, days=days, limit=limit, cooldown=cooldown
    )
