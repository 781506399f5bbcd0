import pytest

from portal.text import search_document, search_key, search_patterns


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Đăng ký khai sinh", "dang ky khai sinh"),
        ("ĐĂNG KÝ KẾT HÔN", "dang ky ket hon"),
        ("Chứng thực bản sao, chữ ký.", "chung thuc ban sao chu ky"),
        ("Thủ tục 1.001193 (cấp xã)", "thu tuc 1.001193 cap xa"),
        ("  nhiều   khoảng  trắng ", "nhieu khoang trang"),
        ("Hộ kinh doanh – thay đổi", "ho kinh doanh thay doi"),
    ],
)
def test_search_key_strips_case_diacritics_and_punctuation(text, key):
    assert search_key(text) == key


def test_every_word_must_match_whole():
    assert search_patterns("Đăng ký") == [" dang ", " ky "]
    assert search_patterns("   ") == []
    document = search_document("Thủ tục đăng ký khai sinh")
    assert all(p in document for p in search_patterns("khai sinh"))
    assert not all(p in document for p in search_patterns("khai tu"))


@pytest.mark.parametrize(
    "typed", ["015090001234", "015 090 001 234", "015.090.001.234", "015-090-001234"]
)
def test_a_citizen_id_may_be_typed_in_groups(typed):
    from portal.validators import clean_citizen_id

    assert clean_citizen_id(typed) == "015090001234"


@pytest.mark.parametrize("typed", ["01509000123", "0150900012345", "01509000123A"])
def test_a_citizen_id_has_twelve_digits(typed):
    from django.core.exceptions import ValidationError

    from portal.validators import clean_citizen_id

    with pytest.raises(ValidationError):
        clean_citizen_id(typed)
