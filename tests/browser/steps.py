"""Steps several browser tests take the same way: an applicant fills the sections of a proposal
through its pages. Each step waits for the page's own confirmation before it returns."""

from __future__ import annotations

from tests.submission_support import pdf_bytes


def fill_general(page, *, title, acronym, abstract_fr="Résumé du projet.", abstract_en="Abstract of the project.",
                 keywords="neuroscience, ageing", save=True):
    page.locator("#general").get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Acronym").fill(acronym)
    page.get_by_label("Abstract in French").fill(abstract_fr)
    page.get_by_label("Abstract in English").fill(abstract_en)
    page.get_by_label("Keywords").fill(keywords)
    if save:
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text("Saved.").wait_for()


def fill_texts(page, *, history="Joint work since 2019.", programme="Three work packages.",
               mobility="Two PhD students a year.", ethics="No ethical issue."):
    page.locator("#texts").get_by_role("link", name="Edit").click()
    page.get_by_label("History of the collaboration and joint publications").fill(history)
    page.get_by_label("Scientific programme").fill(programme)
    page.get_by_label("Mobility and training plan (young researchers)").fill(mobility)
    page.get_by_label("Ethics statement").fill(ethics)
    page.get_by_role("button", name="Save", exact=True).click()


def complete_inserm_team(page, laboratory="Institut de neurobiologie", unit_code="U1234"):
    """The Inserm team came from the coordinator's account: name its laboratory and unit."""
    page.locator("#teams").get_by_role("link", name="Edit").first.click()
    page.get_by_label("Laboratory").fill(laboratory)
    page.get_by_label("Unit code (Inserm units, e.g. U1234)").fill(unit_code)
    page.get_by_role("button", name="Save the team").click()
    page.get_by_text("Team saved.").wait_for()


def add_team(page, *, laboratory, institution, country, leader, email, position="Professor", authority=""):
    page.get_by_role("link", name="Add a team").click()
    page.get_by_label("Laboratory").fill(laboratory)
    page.get_by_label("Institution").fill(institution)
    page.get_by_label("Country").select_option(country)
    if authority:
        page.get_by_label("Supervising authority (tutelle)").fill(authority)
    page.get_by_label("Team leader", exact=True).fill(leader)
    page.get_by_label("Team leader's e-mail").fill(email)
    page.get_by_label("Team leader's position").fill(position)
    page.get_by_label("The team leader holds a permanent position").check()
    page.get_by_role("button", name="Save the team").click()
    page.get_by_text("Team saved.").wait_for()


def name_co_coordinator(page, name="Joana Silva", email="joana.silva@usp.example"):
    page.get_by_role("link", name="Edit the co-coordinator").click()
    page.get_by_label("Name of the foreign co-coordinator").fill(name)
    page.get_by_label("E-mail of the foreign co-coordinator").fill(email)
    page.get_by_role("button", name="Save").click()
    page.get_by_text("An invitation to view and co-edit the proposal was sent").wait_for()


def fill_budget(page, *, years=4, mobility="10000", partner_cash="3000", meetings="2000", total="€48,000"):
    page.locator("#budget").get_by_role("link", name="Edit").click()
    for year in range(1, years + 1):
        page.get_by_label(f"Year {year}, Mobility: asked of Inserm").fill(mobility)
        page.get_by_label(f"Year {year}, Mobility: partner, cash").fill(partner_cash)
        page.get_by_label(f"Year {year}, Meetings, seminars: asked of Inserm").fill(meetings)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_test_id("budget-total").get_by_text(total).wait_for()


def upload_documents(page, kinds, folder):
    """Upload a small real PDF for each (code, label) on the documents page (already open)."""
    for code, label in kinds:
        path = folder / f"{code}.pdf"
        path.write_bytes(pdf_bytes(text=code))
        field = page.get_by_label(label, exact=True)
        field.set_input_files(str(path))
        field.locator("xpath=../..").locator("button[type=submit]").click()
        page.get_by_text(f"{label} uploaded.").wait_for()


def menu_item(page, menu: str, testid: str) -> None:
    """Open a menu of the navigation bar and follow one of its items. The menu opens by script
    (Bootstrap), so wait for the page's scripts, and open it again if a slow start missed a click."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_load_state("load")
    item = page.get_by_test_id(testid)
    for _attempt in range(3):
        page.get_by_role("button", name=menu).click()
        try:
            item.wait_for(state="visible", timeout=3_000)
            break
        except PlaywrightTimeout:
            continue
    item.click()


def log_in(page, base, email, name, password="correct horse battery"):
    """Log in through the form and wait for the welcome page."""
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=f"Welcome, {name}").wait_for()
