"""Real page texts (tests/fixtures/text, made by its make_fixtures.py) and the language of each."""
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "text"
LANG_OF = {
    "en_physorg_article.txt": "en",
    "de_wdr_article.txt": "de",
    "zh_xinhua_article.txt": "zh",
    "zh_debian_handbook_why_gnu_linux.txt": "zh",
    "ja_debian_handbook_creating_accounts.txt": "ja",
    "ko_debian_handbook_who_is_this_book_for.txt": "ko",
    "lowq_impressum_boilerplate.txt": "de",
    "lowq_tippspiel_stats.txt": "de",
    "wikitext_homarus.txt": "en",
    "low_quality_cc.txt": "en",
}
