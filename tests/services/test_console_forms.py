"""The console's forms as an officer under pressure meets them, in a real browser: a case
that approval refuses is corrected where it is reviewed; a field at fault is marked, named by
its label and said in the page's language; the language menu changes the page only when
asked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator

from playwright.async_api import Browser, Locator, Page, Request, Route, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from tests.services.console_steps import (
    add_console_keys,
    answer_the_next_dialog,
    console_page,
    fill_new_case,
    marked_at_fault,
    open_case,
    sign_in,
)

LONGER = "Short black hair, brown eyes, about 130 cm, a scar above the left eyebrow"


async def test_a_reviewer_corrects_what_approval_lacks_and_another_approves(
    stack: Stack, browser: Browser
) -> None:
    """A case filed while the guardian's consent is awaited, with a description too short to
    recognise the child and no photo, cannot be approved. The reviewer sees why on the case
    page (consent: no), corrects both there, and another reviewer approves (four eyes: the
    key that rewrote what partners show does not publish it alone): no trip through the API's
    docs, no case withdrawn and filed again. Only what changed is sent, as a merge patch."""
    await add_console_keys(stack)
    child = {**report_body()["child"], "description": "Black hair", "photo_urls": []}
    guardian = {**report_body()["guardian"], "consent_to_publication": False}
    async with stack.client("police") as police:
        filed = await police.post("/v1/reports", json=report_body(child=child, guardian=guardian))
        assert filed.status_code == 201, filed.text
        case_id = filed.json()["id"]
    async with console_page(stack, browser, "officer") as page:
        patches: list[Request] = []
        page.on("request", lambda r: patches.append(r) if r.method == "PATCH" else None)
        await open_case(page, case_id)
        await expect(page.locator("#consent-recorded")).to_have_text("non")
        for criterion in await page.locator("#review input[type=checkbox]").all():
            await criterion.check()
        await page.locator("#approve").click()
        # Refused: the correction form opens on what approval found missing, each field
        # marked with the reason, the focus on the first.
        description = page.locator("#fix-description")
        consent = page.locator("#fix-consent")
        await expect(description).to_be_focused()
        await expect(description).to_have_attribute("aria-invalid", "true")
        await expect(consent).to_have_attribute("aria-invalid", "true")
        await expect(consent).to_have_accessible_description(re.compile("no guardian consent"))
        await expect(page.locator("#notice")).to_have_text(
            "À corriger : Description physique · Le tuteur consent à la publication."
        )
        await expect(page.locator("#case-status.submitted")).to_be_visible()

        # The rule the description is held to is said beside it.
        await expect(description).to_have_value("Black hair")
        await expect(description).to_have_accessible_description(re.compile("20 caractères"))
        await description.fill(LONGER)
        await page.locator("#fix-consent").check()
        await page.locator("#save-correction").click()
        await expect(page.locator("#notice.ok")).to_have_text("Corrigé.")
        await expect(page.locator("#consent-recorded")).to_have_text("oui")
        [sent] = patches
        assert sent.headers["content-type"] == "application/merge-patch+json"
        assert json.loads(sent.post_data or "") == {
            "child": {"description": LONGER},
            "guardian": {"consent_to_publication": True},
        }

        # Saving again with nothing changed sends nothing.
        await page.locator("#correction summary").click()
        await page.locator("#save-correction").click()
        await expect(page.locator("#notice")).to_have_text("Rien n'a été modifié.")
        assert len(patches) == 1

        # Four eyes: the officer rewrote the description partners would show, so another
        # reviewer approves it. The page says why, and Approve does nothing.
        await expect(page.locator("#four-eyes")).to_have_text(
            re.compile("^Vous avez modifié ce que les partenaires montreront")
        )
        for criterion in await page.locator("#review input[type=checkbox]").all():
            await criterion.check()
        await expect(page.locator("#approve")).to_have_attribute("aria-disabled", "true")
        async with stack.client("reviewer") as reviewer:
            approved = await reviewer.post(f"/v1/reports/{case_id}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
        await page.reload()
        await page.locator("#case-status.approved").wait_for()
        # Once the alert is out, a correction may not take away what it was approved on: the
        # description is marked, with its reason, and nothing else.
        await page.locator("#correction summary").click()
        await description.fill("Black hair")
        await page.locator("#save-correction").click()
        await expect(description).to_be_focused()
        await expect(description).to_have_accessible_description(re.compile("needs a photo"))
        await expect(page.locator("#correct-case [aria-invalid=true]")).to_have_count(1)
    async with stack.client("reviewer") as reviewer:
        case = (await reviewer.get(f"/v1/reports/{case_id}")).json()
    assert case["status"] == "approved"
    assert case["report"]["child"]["description"] == LONGER
    assert case["report"]["guardian"]["consent_to_publication"] is True


async def test_on_a_live_alert_only_a_reviewer_who_did_not_file_it_is_offered_what_partners_show(
    stack: Stack, browser: Browser
) -> None:
    """Once the alert is out, a correction of what partners show needs a reviewer who did not
    file the case (four eyes). The reviewer who filed it, and a desk key, are offered the
    guardian's fields only: the others were offered, typed in, and refused on saving."""
    await add_console_keys(stack)
    async with stack.clients("officer", "reviewer") as (officer, reviewer):
        filed = await officer.post("/v1/reports", json=report_body())
        assert filed.status_code == 201, filed.text
        case_id = filed.json()["id"]
        approved = await reviewer.post(f"/v1/reports/{case_id}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
    for persona in ("officer", "police"):
        async with console_page(stack, browser, persona) as page:
            await open_case(page, case_id)
            await page.locator("#case-status.approved").wait_for()
            await page.locator("#correction summary").click()
            for shown in ("description", "clothing", "photo-url", "vehicle", "plate", "companion"):
                await expect(page.locator(f"#fix-{shown}")).to_be_disabled()
            await expect(page.locator("#fix-guardian-phone")).to_be_enabled()
    # The reviewer who did not file it may correct them.
    async with console_page(stack, browser, "officer") as page:
        await sign_in(page, stack.keys["reviewer"])
        await open_case(page, case_id)
        await page.locator("#correction summary").click()
        await expect(page.locator("#fix-clothing")).to_be_enabled()


async def test_fields_at_fault_are_marked_named_and_said_in_the_pages_language(
    stack: Stack, browser: Browser
) -> None:
    """A required field left empty is said in the page's language (the browser's bubble
    spoke the browser's), before anything is sent; a field the API refuses is marked
    invalid, takes the focus, carries the API's message as its description, and the notice
    names it by its label, not by its path in the API."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "officer") as page:
        reports: list[Request] = []
        page.on("request", lambda r: reports.append(r) if r.url.endswith("/v1/reports") else None)
        await page.locator("#language").select_option("ar")
        await expect(page.locator("html")).to_have_attribute("lang", "ar")
        await page.locator("a[data-nav='nav.new']").click()
        await page.locator("#new-case button[type=submit]").click()
        given_name = page.locator("#given_name")
        await marked_at_fault(given_name, "إلزامي.")
        await expect(page.locator("#notice")).to_contain_text("للتصحيح:")
        assert [r for r in reports if r.method == "POST"] == []

        form = await fill_new_case(page, given_name="Amina")
        await form.locator("#sex").select_option("female")
        # A place name two places share, and no coordinates to tell them apart.
        await form.locator("#place_name").fill("Dakhla")
        await form.locator("#lat").fill("")
        await form.locator("#lon").fill("")
        await expect(given_name).not_to_have_attribute("aria-invalid", "true")  # not yet sent
        await form.locator("button[type=submit]").click()
        place = form.locator("#place_name")
        await expect(place).to_be_focused()
        await expect(place).to_have_attribute("aria-invalid", "true")
        # The API's words, introduced in the page's language, beside the field.
        await expect(place).to_have_accessible_description(
            re.compile(r"^رفضه الخادم: .*names 2 places")
        )
        # The earlier marks are gone: only what is at fault now is marked.
        await expect(form.locator("[aria-invalid=true]")).to_have_count(1)
        label = (await form.locator("label[for=place_name]").inner_text()).strip()
        notice = page.locator("#notice")
        await expect(notice).to_contain_text(f"للتصحيح: {label}")
        await expect(notice).not_to_contain_text("last_seen.place_name")
        # The places it could be, to choose: named in the page's language, told apart by
        # their regions and coordinates.
        await expect(notice).to_contain_text("الداخلة (الداخلة-وادي الذهب")
        await expect(notice).to_contain_text("الداخلة (سوس-ماسة")
        assert len([r for r in reports if r.method == "POST"]) == 1


async def test_the_language_menu_changes_the_page_only_when_asked(
    stack: Stack, browser: Browser
) -> None:
    """Arrowing through the closed language menu does not redraw the page at each language
    it passes (a keyboard user could never reach the third): the page changes on Enter, or
    when the menu is left on another language. The menu is named in the page's language."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "officer") as page:
        menu = page.locator("#language")
        html = page.locator("html")
        await expect(menu).to_have_accessible_name("Langue")
        await menu.focus()
        await page.keyboard.press("ArrowDown")  # العربية, on the way to English
        await expect(menu).to_have_value("ar")
        await page.keyboard.press("ArrowDown")
        await expect(menu).to_have_value("en")
        await expect(html).to_have_attribute("lang", "fr")
        await page.keyboard.press("Enter")
        await expect(html).to_have_attribute("lang", "en")
        await expect(menu).to_have_accessible_name("Language")
        await menu.focus()
        await page.keyboard.press("ArrowUp")
        await expect(html).to_have_attribute("lang", "en")
        await page.keyboard.press("Tab")  # left on العربية: that is the choice
        await expect(html).to_have_attribute("lang", "ar")
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await expect(menu).to_have_accessible_name("اللغة")


async def test_an_alert_not_there_yet_or_never_is_said_and_the_page_goes_on(
    stack: Stack, browser: Browser
) -> None:
    """A moment after approval the alert is not drawn yet (404): the page says it is coming
    and shows it once it is there (it stayed an error, and the page stopped refreshing). A
    case resolved before its alert went out never has one: said so, not as an error."""
    await add_console_keys(stack)
    async with stack.client("police") as police, stack.client("reviewer") as reviewer:
        coming = (await police.post("/v1/reports", json=report_body())).json()["id"]
        approved = await reviewer.post(f"/v1/reports/{coming}/approve", json=CRITERIA)
        alert_id = approved.json()["alert_id"]
    async with console_page(stack, browser, "officer") as page:
        refused = 0

        async def not_yet(route: Route) -> None:
            nonlocal refused
            if refused < 2:  # the first two reads: the engine has not composed it yet
                refused += 1
                await route.fulfill(status=404, json={"status": 404, "title": "Not found"})
            else:
                await route.continue_()

        await page.route(f"**/v1/alerts/{alert_id}", not_yet)
        await open_case(page, coming)
        await expect(page.locator("#no-alert")).to_have_text(
            "L'alerte est en préparation : elle s'affiche ici dans un instant."
        )
        await page.locator("#alert #versions").wait_for()
        await expect(page.locator("#no-alert")).to_have_count(0)
        assert refused == 2

        # A case closed before its alert went out: the alert never comes.
        await page.route(
            f"**/v1/alerts/{alert_id}",
            lambda route: route.fulfill(status=404, json={"status": 404, "title": "Not found"}),
        )
        async with stack.client("police") as police:
            assert (await police.post(f"/v1/reports/{coming}/resolve")).status_code == 200
        await open_case(page, coming)
        await page.locator("#case-status.resolved").wait_for()
        await expect(page.locator("#no-alert")).to_have_text(
            "Aucune alerte n'est partie : le dossier a été clos avant que son alerte ne soit émise."
        )
        await expect(page.locator("#notice")).to_have_text("")


async def test_an_approval_of_what_changed_since_the_page_showed_it_is_refused(
    stack: Stack, browser: Browser
) -> None:
    """The reviewer ticks the criteria of the case the page shows; meanwhile its submitter
    rewrites the description. Approve sends the version the page showed: refused (412),
    nothing goes out, the page says so and shows the case as it is now; approved once read."""
    await add_console_keys(stack)
    async with stack.client("police") as police:
        case_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
    async with console_page(stack, browser, "officer") as page:
        await open_case(page, case_id)
        for criterion in await page.locator("#review input[type=checkbox]").all():
            await criterion.check()
        async with stack.client("police") as police:
            changed = {"child": {"description": LONGER}}
            corrected = await police.patch(f"/v1/reports/{case_id}", json=changed)
            assert corrected.status_code == 200, corrected.text
        await expect(page.get_by_text(LONGER)).to_have_count(0)  # not on the page yet
        await page.locator("#approve").click()
        await expect(page.locator("#notice")).to_have_text(
            re.compile("^Le dossier a changé depuis que cette page l'a affiché : rien n'est parti")
        )
        await expect(page.get_by_text(LONGER)).to_be_visible()
        await expect(page.locator("#case-status.submitted")).to_be_visible()
        for criterion in await page.locator("#review input[type=checkbox]").all():
            await criterion.check()
        await page.locator("#approve").click()
        await page.locator("#case-status.approved").wait_for()


async def test_a_case_typed_in_arabic_digits_is_filed_and_a_slip_loses_nothing(
    stack: Stack, browser: Browser
) -> None:
    """Digits as an Arabic keyboard types them are read as digits (a number field refused
    them: an age could not be typed). Neither age nor birth date is said on the age field,
    in the page's language. Leaving a form not sent asks first: staying keeps every field,
    and once sent the console moves on without asking."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "police") as page:
        await page.locator("#language").select_option("ar")
        await expect(page.locator("html")).to_have_attribute("lang", "ar")
        form = await fill_new_case(page, "Salma")
        await form.locator("#sex").select_option("female")
        age = form.locator("#age")
        await age.fill("")
        await form.locator("button[type=submit]").click()
        await expect(age).to_be_focused()
        await expect(age).to_have_accessible_description("أدخل السن أو تاريخ الازدياد.")
        await age.fill("٩")
        phone = form.locator("#guardian_phone")
        await phone.fill("+212 ٦٦١ ٢٣ ٤٥ ٦٧")
        await expect(phone).to_have_attribute("dir", "ltr")  # its groups in the order typed

        asked = answer_the_next_dialog(page, leave=False)
        await page.locator("a[data-nav='nav.cases']").click()
        message = await asyncio.wait_for(asked, timeout=10)
        assert message == "لم يُرسَل ما كتبته بعد. هل تغادر هذه الصفحة وتفقده؟"
        await expect(page).to_have_url(re.compile(r"#/new$"))  # put back: still this page
        await expect(age).to_have_value("٩")

        # Leaving the console itself (a reload) is asked too, by the browser; staying keeps
        # every field.
        reload_asked = answer_the_next_dialog(page, leave=False)
        with contextlib.suppress(PlaywrightTimeout):
            await page.reload(timeout=3000)
        assert (await asyncio.wait_for(reload_asked, timeout=10)) == ""
        await expect(age).to_have_value("٩")

        await form.locator("button[type=submit]").click()  # sent: no question on the way
        await page.wait_for_url(re.compile(r"#/cases/[\w-]+$"))
        async with stack.client("police") as police:
            [case] = (await police.get("/v1/reports")).json()["items"]
        assert case["report"]["child"]["age"] == 9
        assert case["report"]["guardian"]["phone"] == "+212 661 23 45 67"


async def refused_on_its_field(page: Page, field: str, act: str, typed: str, said: str) -> None:
    """``typed`` into the time window ``field``, then ``act`` pressed: the field is marked with
    ``said``, takes the focus, and the notice names it by its label."""
    window = page.locator(field)
    await window.fill(typed)
    await page.locator(act).click()
    await marked_at_fault(window, said)
    await expect(page.locator("#notice")).to_have_text("À corriger : Durée (heures).")


@contextlib.asynccontextmanager
async def _reviewing_a_filed_case(
    stack: Stack, browser: Browser
) -> AsyncIterator[tuple[Page, list[str]]]:
    """An officer on the page of a case the police just filed, with the acts (POSTs) the
    page sends from then on."""
    await add_console_keys(stack)
    async with stack.client("police") as police:
        case_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
    async with console_page(stack, browser, "officer") as page:
        acts: list[str] = []
        page.on("request", lambda r: acts.append(r.url) if r.method == "POST" else None)
        await open_case(page, case_id)
        yield page, acts


async def test_a_time_window_is_checked_on_its_field_before_anything_is_sent(
    stack: Stack, browser: Browser
) -> None:
    """A time window that is no number of hours from 1 to 168, typed for an approval or a
    renewal, is said on its field, in the page's language, and nothing is sent: sent as
    typed, it came back as the API's "ttl_hours: …", on no field and by no label."""
    async with _reviewing_a_filed_case(stack, browser) as (page, acts):
        for criterion in await page.locator("#review input[type=checkbox]").all():
            await criterion.check()
        await refused_on_its_field(page, "#ttl", "#approve", "abc", "Un nombre.")
        between = "Entre \u20661–168\u2069"
        await refused_on_its_field(page, "#ttl", "#approve", "500", between)
        assert acts == []
        await page.locator("#ttl").fill("6")
        await page.locator("#approve").click()
        await page.locator("#case-status.approved").wait_for()

        # Renewing: not even asked to confirm a window that cannot go.
        await refused_on_its_field(page, "#renew-ttl", "[data-action=renew]", "0", between)
        await expect(page.locator("[data-confirm=renew]")).to_have_count(0)
        assert [url.rsplit("/", 1)[1] for url in acts] == ["approve"]


async def test_half_a_point_is_said_on_the_field_left_empty_not_dropped(
    stack: Stack, browser: Browser
) -> None:
    """A latitude typed without its longitude (or the reverse) is said on the empty field,
    before anything is sent: the form dropped the half point without a word, and the case
    (or the sighting) went out placed by its place name alone."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "police") as page:
        posts: list[Request] = []
        page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
        form = await fill_new_case(page, "Salma")
        await form.locator("#sex").select_option("female")
        await form.locator("#lon").fill("")
        await form.locator("button[type=submit]").click()
        lon = form.locator("#lon")
        await marked_at_fault(lon, "Obligatoire.")
        await expect(page.locator("#notice")).to_have_text("À corriger : Longitude.")
        assert posts == []
        # Both emptied: the place name alone places the case, as the form says it may.
        await form.locator("#lat").fill("")
        await form.locator("button[type=submit]").click()
        await page.wait_for_url(re.compile(r"#/cases/[\w-]+$"))

        sighting = page.locator("#sighting-form")
        await sighting.locator("#sighting-place").fill("Rabat")
        await sighting.locator("#sighting-lon").fill("-6.84")
        posts.clear()
        await sighting.locator("#add-sighting").click()
        lat = sighting.locator("#sighting-lat")
        await expect(lat).to_be_focused()
        await expect(lat).to_have_accessible_description("Obligatoire.")
        assert posts == []


async def test_a_rejection_without_a_reason_is_said_on_its_field_before_it_is_confirmed(
    stack: Stack, browser: Browser
) -> None:
    """Reject pressed with no reason typed: the reason's field is marked, in the page's
    language, and no confirmation is asked (it was asked, then the act refused once
    confirmed, the refusal on no field). Typed, the rejection goes as asked."""
    async with _reviewing_a_filed_case(stack, browser) as (page, acts):
        await page.locator("[data-action=reject]").click()
        reason = page.locator("#reject-reason")
        await marked_at_fault(reason, "Obligatoire.")
        await expect(page.locator("#notice")).to_have_text("À corriger : Motif du rejet.")
        await expect(page.locator("[data-confirm=reject]")).to_have_count(0)
        await reason.fill("Duplicate of a case already published")
        await page.locator("[data-action=reject]").click()
        await page.locator("[data-confirm=reject]").click()
        await page.locator("#case-status.rejected").wait_for()
        assert [url.rsplit("/", 1)[1] for url in acts] == ["reject"]


async def test_a_field_typed_as_an_alternative_is_named_by_its_own_name(
    stack: Stack, browser: Browser
) -> None:
    """The birth date (beside the age) and the destination (beside the heading) are each
    named by their own name when at fault: the notice read "À corriger : ou date de
    naissance.", the "or" that links them on the form taken for the field's name."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "police") as page:
        form = await fill_new_case(page, "Salma")
        await form.locator("#sex").select_option("female")
        await form.locator("#age").fill("")
        await form.locator("#birth_date").fill("2099-01-01")
        await form.locator("button[type=submit]").click()
        await expect(form.locator("#birth_date")).to_be_focused()
        await expect(page.locator("#notice")).to_have_text("À corriger : Date de naissance.")
        await form.locator("#birth_date").fill("")
        await form.locator("#age").fill("9")
        await form.locator("#destination").fill("Nowhere at all")
        await form.locator("button[type=submit]").click()
        await expect(form.locator("#destination")).to_be_focused()
        await expect(page.locator("#notice")).to_contain_text("À corriger : Destination.")


async def its_mark_shares_a_line(label: Locator) -> None:
    """``label`` is marked required ("*", console.css), and its mark takes no line of its
    own: the label is no taller for it. (Measured with the mark taken away by a rule added to
    the console's own style sheet: the page's policy refuses a style element.)"""
    assert await label.evaluate("(l) => getComputedStyle(l, '::after').content") == '" *"'
    taller = await label.evaluate("""(label) => {
      const sheet = [...document.styleSheets].find((s) => s.href?.endsWith("/console.css"));
      const marked = label.getBoundingClientRect().height;
      const unmark = "label::after { content: none !important; }";
      const rule = sheet.insertRule(unmark, sheet.cssRules.length);
      const unmarked = label.getBoundingClientRect().height;
      sheet.deleteRule(rule);
      return marked - unmarked;
    }""")
    assert abs(taller) < 1, (await label.get_attribute("for"), taller)


async def test_a_required_fields_mark_sits_on_its_labels_line(
    stack: Stack, browser: Browser
) -> None:
    """The red "*" of a required field is beside its label's words, or the field on their
    line: it landed alone on a line under a textarea (the case's description and
    circumstances) and under the clock a sighting's time is read on."""
    await add_console_keys(stack)
    async with stack.client("police") as police:
        case_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
    async with console_page(stack, browser, "police") as page:
        await page.locator("a[data-nav='nav.new']").click()
        for field in ("given_name", "description", "circumstances"):
            await its_mark_shares_a_line(page.locator(f"label[for={field}]"))
        await open_case(page, case_id)
        await its_mark_shares_a_line(page.locator("label[for=sighting-at]"))
