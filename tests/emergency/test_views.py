"""What the page draws from a result: phone cards with tel: links, the counts block, the planner view's block."""

import re

from serving import views
from tests.emergency.helpers import run


def test_phone_numbers_become_tel_links_of_their_digits():
    assert views.tel_href("050-123-4567") == "tel:0501234567"
    assert views.tel_href("+972 3-123-4567") == "tel:+97231234567"
    assert views.tel_href("") == "" and views.tel_href("12") == ""


def test_a_card_per_resident_with_name_address_and_phones(home):
    result = run(home, "power_dependent", streets="שד ירושלים")
    cards = views.cards(result)
    assert len(cards) == len(result.rows) == 4        # P01-P03, and U01 (a registrant matched to no register record)
    card = cards[0]
    assert card.address.startswith("שד ירושלים 3") and "קומה 1" in card.address
    phones = [(t, v) for t, v, is_phone in card.fields if is_phone]
    assert phones and all(views.tel_href(v) for _, v in phones)
    module = views.environment().get_template("_cards.html").module
    html = str(module.resident_cards(cards))
    assert re.search(r'<a class="phone" href="tel:0\d{8,9}">0\d{1,2}-\d{3}-\d{4}</a>', html)


def test_the_counts_block_names_streets_and_counts_and_the_planner_block_hides_small_cells(home):
    module = views.environment().get_template("_counts.html").module
    named = views.counts_context(run(home, "evacuation_assistance").counts)
    html = str(module.counts_block(named["counts"], named["chart"], named["buildings"], named["more_buildings"]))
    assert 'id="counts-total">6<' in html and "<svg" in html and "ז&#39;בוטינסקי" in html
    assert "<script" not in html
    planner = views.counts_context(run(home, "evacuation_assistance", role="planner", view="counts").counts)
    html = str(module.counts_block(planner["counts"], planner["chart"], planner["buildings"],
                                   planner["more_buildings"]))
    assert "ז&#39;בוטינסקי" not in html and "2 רחובות נוספים" in html and 'id="building-counts"' not in html
    numbers = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', html)]
    assert numbers and min(numbers) >= 5
