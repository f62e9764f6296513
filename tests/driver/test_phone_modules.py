"""The phone's code against the server's: one vocabulary, one owner per job.

These parse the driver app's JavaScript (app/static/driver) the way a reviewer
would read it, so a phone that starts reading a settings key the server never
sends, or a screen that opens IndexedDB itself, fails here and not in a van.
"""
from __future__ import annotations

import json
import re

from app.driver.shell import STATIC_FILES, STATIC_ROOT, static_import_graph
from app.sync.settings import driver_settings

DRIVER = STATIC_ROOT / "driver"
ALL_JS = sorted(p for p in DRIVER.rglob("*.js"))


def source(name: str) -> str:
    return (DRIVER / name).read_text()


def without_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(?m)^\s*//.*$", "", text)


def test_the_phone_reads_only_settings_keys_the_pull_carries(app, driver):
    with app.app_context():
        sent = driver_settings(driver)
    code = without_comments(source("settings.js"))
    # settings.js names the pull's settings `server` and its photo block `photo`.
    top = set(re.findall(r"\bserver\.([A-Za-z_]\w*)", code))
    photo = set(re.findall(r"\bphoto\.([A-Za-z_]\w*)", code))
    assert top, "settings.js reads no key at all: the parse is wrong"
    assert top <= set(sent), f"the phone reads settings the pull does not send: {sorted(top - set(sent))}"
    assert photo <= set(sent["photo"]), f"the phone reads photo settings the pull does not send: {sorted(photo - set(sent['photo']))}"
    everything = without_comments("".join(p.read_text() for p in ALL_JS))
    # The keys the phone once read and the server never sent: gone for good.
    for gone in ("photo_required", "more"):
        assert not re.search(rf"\.{gone}\b", everything), gone


def test_the_phones_fallback_is_the_servers_vocabulary_word_for_word(app):
    block = re.search(r"// settings-fallback:start\nconst FALLBACK = (\{.*?\});\n// settings-fallback:end", source("settings.js"), re.S)
    assert block
    with app.app_context():
        assert json.loads(block.group(1)) == driver_settings()


def test_only_settings_js_reads_the_stored_settings_and_nothing_hard_codes_the_vocabulary():
    for path in ALL_JS:
        code = without_comments(path.read_text())
        name = path.relative_to(DRIVER).as_posix()
        if name not in ("settings.js", "db.js"):
            assert "readSettings" not in code and 'getMeta("settings")' not in code, name
        if name != "settings.js":
            # The server's labels, not the phone's own words, for grades and failure reasons.
            assert "Nobody home" not in code and "As new" not in code, name


def test_the_pull_module_reads_only_what_the_pull_answer_has():
    keys = {"cursor", "last_mutation_id", "reset", "changes", "settings"}
    read = set(re.findall(r"\banswer\.([A-Za-z_]\w*)", without_comments(source("pull.js"))))
    assert read and read <= keys, read - keys


def test_db_js_is_the_only_module_that_touches_indexeddb():
    for path in ALL_JS:
        name = path.relative_to(DRIVER).as_posix()
        if name == "db.js":
            continue
        code = without_comments(path.read_text())
        assert not re.search(r"\.transaction\(|\bopenDB\b|indexedDB|\bdb\(\)", code), f"{name} opens the store itself"


def test_screens_import_shared_actions_not_each_other():
    for path in sorted((DRIVER / "screens").glob("*.js")):
        imports = re.findall(r"""from\s+["']([^"']+)["']""", path.read_text())
        assert not [i for i in imports if i.startswith("./")], f"{path.name} imports another screen: {imports}"


def test_the_service_worker_loads_no_dom_code(client):
    sw = client.get("/driver/sw.js").get_data(as_text=True)
    entries = re.findall(r'^import .* from "/static/(driver/[^"?]+)(?:\?v=[0-9a-f]+)?";', sw, re.M)
    assert entries, "sw.js imports nothing: the parse is wrong"
    loaded = set().union(*(static_import_graph(entry) for entry in entries))
    assert "driver/sync.js" in loaded
    dom_modules = {name for name in loaded if "document." in without_comments((STATIC_ROOT / name).read_text())}
    assert "driver/dom.js" not in loaded and not dom_modules, dom_modules


def test_every_driver_file_is_precached():
    on_disk = {p.relative_to(STATIC_ROOT).as_posix() for p in ALL_JS}
    assert on_disk <= set(STATIC_FILES), f"not precached (so missing offline): {sorted(on_disk - set(STATIC_FILES))}"
    assert all((STATIC_ROOT / name).exists() for name in STATIC_FILES)


def test_every_module_is_type_checked():
    unchecked = [p.name for p in ALL_JS if not p.read_text().startswith("// @ts-check")]
    assert not unchecked
