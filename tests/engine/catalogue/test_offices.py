"""The local office directory (bpmn/offices.yaml) and routing a case to the office of the business's place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bizportal.engine.catalogue.offices import OfficeDirectory, load_offices
from bizportal.engine.errors import DefinitionError, InvalidInput, NotFound

BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"
OFFICES_FILE = BPMN_DIR / "offices.yaml"
AGENCY_CODES = frozenset(a["code"] for a in yaml.safe_load((BPMN_DIR / "agencies.yaml").read_text("utf-8"))["agencies"])

# The 50 districts (เขต) of Bangkok in DOPA order (geocodes 1001..1050).
BANGKOK_DISTRICTS = [
    ("พระนคร", "Phra Nakhon"), ("ดุสิต", "Dusit"), ("หนองจอก", "Nong Chok"), ("บางรัก", "Bang Rak"),
    ("บางเขน", "Bang Khen"), ("บางกะปิ", "Bang Kapi"), ("ปทุมวัน", "Pathum Wan"),
    ("ป้อมปราบศัตรูพ่าย", "Pom Prap Sattru Phai"), ("พระโขนง", "Phra Khanong"), ("มีนบุรี", "Min Buri"),
    ("ลาดกระบัง", "Lat Krabang"), ("ยานนาวา", "Yan Nawa"), ("สัมพันธวงศ์", "Samphanthawong"),
    ("พญาไท", "Phaya Thai"), ("ธนบุรี", "Thon Buri"), ("บางกอกใหญ่", "Bangkok Yai"), ("ห้วยขวาง", "Huai Khwang"),
    ("คลองสาน", "Khlong San"), ("ตลิ่งชัน", "Taling Chan"), ("บางกอกน้อย", "Bangkok Noi"),
    ("บางขุนเทียน", "Bang Khun Thian"), ("ภาษีเจริญ", "Phasi Charoen"), ("หนองแขม", "Nong Khaem"),
    ("ราษฎร์บูรณะ", "Rat Burana"), ("บางพลัด", "Bang Phlat"), ("ดินแดง", "Din Daeng"), ("บึงกุ่ม", "Bueng Kum"),
    ("สาทร", "Sathon"), ("บางซื่อ", "Bang Sue"), ("จตุจักร", "Chatuchak"), ("บางคอแหลม", "Bang Kho Laem"),
    ("ประเวศ", "Prawet"), ("คลองเตย", "Khlong Toei"), ("สวนหลวง", "Suan Luang"), ("จอมทอง", "Chom Thong"),
    ("ดอนเมือง", "Don Mueang"), ("ราชเทวี", "Ratchathewi"), ("ลาดพร้าว", "Lat Phrao"), ("วัฒนา", "Watthana"),
    ("บางแค", "Bang Khae"), ("หลักสี่", "Lak Si"), ("สายไหม", "Sai Mai"), ("คันนายาว", "Khan Na Yao"),
    ("สะพานสูง", "Saphan Sung"), ("วังทองหลาง", "Wang Thonglang"), ("คลองสามวา", "Khlong Sam Wa"),
    ("บางนา", "Bang Na"), ("ทวีวัฒนา", "Thawi Watthana"), ("ทุ่งครุ", "Thung Khru"), ("บางบอน", "Bang Bon"),
]


@pytest.fixture(scope="module")
def directory() -> OfficeDirectory:
    return load_offices(OFFICES_FILE, AGENCY_CODES)


def _office(code: str, districts: list[dict[str, Any]], agencies: list[str], **extra: Any) -> dict[str, Any]:
    return {"code": code, "name_th": f"สำนักงาน {code}", "name_en": f"Office {code}", "kind": "town_municipality",
            "province": "ทดสอบ", "province_en": "Testland", "districts": districts, "agencies": agencies, **extra}


def _write(tmp_path: Path, offices: list[dict[str, Any]]) -> Path:
    path = tmp_path / "offices.yaml"
    path.write_text(yaml.safe_dump({"offices": offices}, allow_unicode=True), encoding="utf-8")
    return path


ALPHA = {"name_th": "อัลฟา", "name_en": "Alpha"}
BETA = {"name_th": "เบตา", "name_en": "Beta"}


# --- the shipped data -------------------------------------------------------------------------------

def test_all_50_bangkok_districts_have_one_district_office(directory: OfficeDirectory) -> None:
    bangkok = [o for o in directory.offices() if o.province == "กรุงเทพมหานคร"]
    assert len(bangkok) == 50
    assert len({o.code for o in bangkok}) == 50
    assert [(d.name_th, d.name_en) for o in bangkok for d in o.districts] == BANGKOK_DISTRICTS
    assert [d.geocode for o in bangkok for d in o.districts] == [str(1001 + n) for n in range(50)]
    for office in bangkok:
        assert office.kind == "bma_district" and office.province_en == "Bangkok" and not office.sample
        assert set(office.agencies) == {"LAO", "BMA"}
        assert office.code.startswith("BKK-") and office.code.isascii() and office.code == office.code.upper()
        assert office.name_th == "สำนักงานเขต" + office.districts[0].name_th
    assert directory.get("BKK-PHRA-NAKHON").districts[0].name_en == "Phra Nakhon"
    assert directory.get("BKK-KHLONG-TOEI").districts[0].name_th == "คลองเตย"


def test_municipalities_are_marked_sample_and_the_approximation_is_stated(directory: OfficeDirectory) -> None:
    others = [o for o in directory.offices() if o.province != "กรุงเทพมหานคร"]
    assert 6 <= len(others) <= 10
    assert all(o.sample and o.agencies == ("LAO",) for o in others)
    assert {"CHIANG-MAI-CITY", "PATTAYA-CITY", "HAT-YAI-CITY"} <= {o.code for o in others}
    assert directory.get("PATTAYA-CITY").kind == "pattaya"
    header = OFFICES_FILE.read_text(encoding="utf-8").split("offices:", 1)[0]
    assert "APPROXIMATED BY AMPHOE" in header and "Department of Local Administration" in header
    assert len({o.code for o in directory.offices()}) == len(directory.offices())
    assert directory.agencies() == {"LAO", "BMA"}


def test_get_unknown_office_is_not_found(directory: OfficeDirectory) -> None:
    with pytest.raises(NotFound, match="NOWHERE"):
        directory.get("NOWHERE")


# --- routing ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("province", "district", "expected"), [
    ("กรุงเทพมหานคร", "บางรัก", "BKK-BANG-RAK"),
    ("Bangkok", "Bang Rak", "BKK-BANG-RAK"),
    ("  bangkok ", "BANG RAK", "BKK-BANG-RAK"),
    ("กทม.", "เขตบางรัก", "BKK-BANG-RAK"),
    ("กรุงเทพฯ", "เขต บางรัก", "BKK-BANG-RAK"),
    ("กรุงเทพ", "Bang Rak District", "BKK-BANG-RAK"),
    ("Krung Thep Maha Nakhon", "Khet Bang Rak", "BKK-BANG-RAK"),
    ("Bangkok", "Thonburi", "BKK-THON-BURI"),
    ("Bangkok", "pathumwan", "BKK-PATHUM-WAN"),
    ("Bangkok", "Klong Toey", "BKK-KHLONG-TOEI"),
    ("Bangkok", "Sathorn", "BKK-SATHON"),
    ("Bangkok", "Pom Prap", "BKK-POM-PRAP-SATTRU-PHAI"),
    ("Bangkok", "ป้อมปราบศัตรูพ่าย", "BKK-POM-PRAP-SATTRU-PHAI"),
    ("เชียงใหม่", "เมืองเชียงใหม่", "CHIANG-MAI-CITY"),
    ("จังหวัดเชียงใหม่", "อำเภอเมืองเชียงใหม่", "CHIANG-MAI-CITY"),
    ("จ.เชียงใหม่", "อ.เมือง", "CHIANG-MAI-CITY"),
    ("Chiang Mai", "Mueang Chiang Mai", "CHIANG-MAI-CITY"),
    ("chiang mai province", "Muang Chiang Mai District", "CHIANG-MAI-CITY"),
    ("Chiangmai", "Amphoe Mueang Chiang Mai", "CHIANG-MAI-CITY"),
    ("Chiang Mai", "Mueang", "CHIANG-MAI-CITY"),
    # Sara am typed as nikhahit + sara aa, as many Thai keyboards and PDFs produce it.
    ("สงขลา", "\u0e2d\u0e4d\u0e32\u0e40\u0e20\u0e2d\u0e2b\u0e32\u0e14\u0e43\u0e2b\u0e0d\u0e48", "HAT-YAI-CITY"),
    ("Songkhla", "Hat Yai", "HAT-YAI-CITY"),
    ("Chon Buri", "Bang Lamung", "PATTAYA-CITY"),
    ("ชลบุรี", "เมืองชลบุรี", "CHON-BURI-TOWN"),
])
def test_route_accepts_thai_english_and_common_variants(directory: OfficeDirectory, province: str, district: str,
                                                         expected: str) -> None:
    assert directory.route("LAO", province, district).code == expected


@pytest.mark.parametrize(("thai", "english"), BANGKOK_DISTRICTS)
def test_every_bangkok_district_routes_by_thai_and_english_name(directory: OfficeDirectory, thai: str,
                                                                english: str) -> None:
    office = directory.route("LAO", "กรุงเทพมหานคร", f"เขต{thai}")
    assert office.districts[0].name_th == thai
    assert directory.route("LAO", "Bangkok", f"{english} District") == office


def test_bangkok_bma_and_lao_licences_both_go_to_the_district_office(directory: OfficeDirectory) -> None:
    bma = directory.route("BMA", "Bangkok", "Khlong Toei")
    lao = directory.route("LAO", "กรุงเทพมหานคร", "คลองเตย")
    assert bma == lao
    assert bma.code == "BKK-KHLONG-TOEI" and bma.kind == "bma_district"
    assert directory.route(" bma ", "Bangkok", "Khlong Toei") == bma  # agency codes are trimmed and upper-cased


def test_chiang_mai_lao_goes_to_the_city_municipality(directory: OfficeDirectory) -> None:
    office = directory.route("LAO", "เชียงใหม่", "เมืองเชียงใหม่")
    assert office.code == "CHIANG-MAI-CITY"
    assert office.name_th == "เทศบาลนครเชียงใหม่" and office.kind == "city_municipality"


def test_unknown_province_names_the_province_field(directory: OfficeDirectory) -> None:
    with pytest.raises(InvalidInput) as caught:
        directory.route("LAO", "Atlantis", "Downtown")
    err = caught.value
    assert err.details["field"] == "business.province"
    assert "no local office for agency LAO in province 'Atlantis' is connected to Biz Portal yet" in err.message
    assert "counter" in err.message and err.hint
    assert "กรุงเทพมหานคร" in err.details["connected_provinces"]


@pytest.mark.parametrize("province", ["", "   "])
def test_missing_province_names_the_province_field(directory: OfficeDirectory, province: str) -> None:
    with pytest.raises(InvalidInput, match="province is missing") as caught:
        directory.route("LAO", province, "บางรัก")
    assert caught.value.details == {"field": "business.province"}


@pytest.mark.parametrize("district", [None, "", "  ", "เขต"])
def test_missing_district_in_bangkok_names_the_district_field(directory: OfficeDirectory,
                                                              district: str | None) -> None:
    with pytest.raises(InvalidInput, match=r"district \(เขต/อำเภอ\) in กรุงเทพมหานคร \(Bangkok\) is missing") as caught:
        directory.route("BMA", "Bangkok", district)
    assert caught.value.details["field"] == "business.district"
    assert len(caught.value.details["connected_districts"]) == 50


def test_district_is_required_even_where_one_office_is_connected(directory: OfficeDirectory) -> None:
    # One connected office in Chiang Mai covers only its own amphoe; guessing would send other districts'
    # businesses to a local government that has no jurisdiction over them.
    with pytest.raises(InvalidInput) as caught:
        directory.route("LAO", "Chiang Mai", None)
    assert caught.value.details["field"] == "business.district"
    assert caught.value.details["connected_districts"] == ["เมืองเชียงใหม่"]


def test_unconnected_district_names_the_district_field(directory: OfficeDirectory) -> None:
    with pytest.raises(InvalidInput) as caught:
        directory.route("LAO", "เชียงใหม่", "อำเภอสันทราย")
    err = caught.value
    assert err.message == ("no local office for agency LAO in province เชียงใหม่ (Chiang Mai) district 'อำเภอสันทราย' "
                           "is connected to Biz Portal yet; file at the local office's counter")
    assert err.details["field"] == "business.district"
    # A district of another province is not matched by name alone.
    with pytest.raises(InvalidInput, match="district 'Hat Yai'") as caught:
        directory.route("LAO", "Bangkok", "Hat Yai")
    assert caught.value.details["field"] == "business.district"


def test_bma_licence_outside_bangkok_has_no_office(directory: OfficeDirectory) -> None:
    with pytest.raises(InvalidInput, match=r"agency BMA in province เชียงใหม่ \(Chiang Mai\)") as caught:
        directory.route("BMA", "Chiang Mai", "Mueang Chiang Mai")
    assert caught.value.details["field"] == "business.province"
    assert caught.value.details["connected_provinces"] == ["กรุงเทพมหานคร"]


def test_an_office_that_does_not_serve_the_agency_is_not_chosen(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        _office("ALPHA-TOWN", [ALPHA, BETA], ["LAO"]),
        _office("ALPHA-DEPOT", [ALPHA], ["DLT"], kind="sao"),
    ])
    directory = load_offices(path, AGENCY_CODES)
    assert directory.route("DLT", "Testland", "Alpha").code == "ALPHA-DEPOT"
    assert directory.route("LAO", "ทดสอบ", "อัลฟา").code == "ALPHA-TOWN"
    with pytest.raises(InvalidInput, match=r"agency DLT in province ทดสอบ \(Testland\) district เบตา") as caught:
        directory.route("DLT", "Testland", "Beta")  # covered, but only for LAO
    assert caught.value.details == {"field": "business.district", "agency": "DLT", "connected_districts": ["อัลฟา"]}
    with pytest.raises(InvalidInput) as caught:
        directory.route("FDA", "Testland", "Alpha")  # nobody serves FDA here
    assert caught.value.details["field"] == "business.province"


# --- load errors --------------------------------------------------------------------------------------

def test_shipped_directory_loads_against_the_agencies_file() -> None:
    assert len(load_offices(OFFICES_FILE, AGENCY_CODES).offices()) >= 56


def test_duplicate_office_code_names_file_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, [_office("TOWN", [ALPHA], ["LAO"]), _office("TOWN", [BETA], ["LAO"])])
    with pytest.raises(DefinitionError, match=r"offices\.yaml: offices\.1\.code: office code 'TOWN' is used twice "
                                              r"\(also offices\.0\)") as caught:
        load_offices(path, AGENCY_CODES)
    assert caught.value.details == {"file": str(path), "field": "offices.1.code"}


def test_overlapping_coverage_names_file_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        _office("TOWN", [ALPHA], ["LAO"]),
        _office("SAO-NEXT-DOOR", [BETA, {"name_th": "อัลฟา", "name_en": "Alpha"}], ["DLT", "LAO"], kind="sao"),
    ])
    with pytest.raises(DefinitionError, match=r"offices\.yaml: offices\.1\.districts\.1: district อัลฟา \(Alpha\) of "
                                              r"ทดสอบ is already covered for agency LAO by office TOWN \(offices\.0\)"):
        load_offices(path, AGENCY_CODES)


def test_unknown_agency_names_file_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, [_office("TOWN", [ALPHA], ["LAO", "NOPE"])])
    with pytest.raises(DefinitionError, match=r"offices\.yaml: offices\.0\.agencies\.1: unknown agency 'NOPE'"):
        load_offices(path, AGENCY_CODES)


@pytest.mark.parametrize(("offices", "field", "message"), [
    ([_office("TOWN", [ALPHA, ALPHA], ["LAO"])], "offices.0.districts.1", "listed twice"),
    ([_office("TOWN", [ALPHA], ["LAO", "LAO"])], "offices.0.agencies.1", "listed twice"),
    ([_office("TOWN", [ALPHA, {"name_th": "แกมมา", "name_en": "Gamma", "aliases": ["alpha"]}], ["LAO"])],
     "offices.0.districts.1.aliases.0", "already names district อัลฟา"),
    ([_office("TOWN", [ALPHA], ["LAO"]), _office("CITY", [BETA], ["LAO"], province="อื่น")],
     "offices.1.province_en", "already names province ทดสอบ"),
    ([_office("TOWN", [ALPHA], ["LAO"]), _office("CITY", [BETA], ["LAO"], province_en="Elsewhere")],
     "offices.1.province_en", "is called 'Testland' elsewhere"),
])
def test_ambiguous_data_names_file_and_field(tmp_path: Path, offices: list[dict[str, Any]], field: str,
                                             message: str) -> None:
    with pytest.raises(DefinitionError, match=message) as caught:
        load_offices(_write(tmp_path, offices), AGENCY_CODES)
    assert caught.value.message.startswith(f"{tmp_path / 'offices.yaml'}: {field}: ")


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"kind": "village"}, "offices.0.kind", "Input should be"),
    ({"code": "town-1"}, "offices.0.code", "String should match pattern"),
    ({"agencies": []}, "offices.0.agencies", "Tuple should have at least 1 item"),
    ({"province_name": "x"}, "offices.0.province_name", "Extra inputs are not permitted"),
    ({"districts": [{"name_th": "อัลฟา", "name_en": "Alpha", "geocode": "12"}]}, "offices.0.districts.0.geocode",
     "String should match pattern"),
])
def test_schema_errors_name_file_and_field(tmp_path: Path, change: dict[str, Any], field: str, message: str) -> None:
    path = _write(tmp_path, [{**_office("TOWN", [ALPHA], ["LAO"]), **change}])
    with pytest.raises(DefinitionError) as caught:
        load_offices(path, AGENCY_CODES)
    assert f"{path}: {field}: {message}" in caught.value.message
    assert field in caught.value.details["fields"]


def test_unreadable_or_malformed_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"missing\.yaml: cannot read"):
        load_offices(tmp_path / "missing.yaml", AGENCY_CODES)
    broken = tmp_path / "broken.yaml"
    broken.write_text("offices: [\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"broken\.yaml: not valid YAML"):
        load_offices(broken, AGENCY_CODES)
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"empty\.yaml: \(top level\): Input should be a valid dictionary"):
        load_offices(empty, AGENCY_CODES)
