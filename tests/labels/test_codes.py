"""Label codes: readable, random, and a check symbol that catches every single typo and neighbour swap."""
import random

import pytest

from app.labels.codes import ALPHABET, CODE_LENGTH, format_label_code, is_valid_label_code, new_label_code, normalise_label_code

SAMPLE = [new_label_code() for _ in range(300)]


def test_new_codes_are_valid_and_use_the_unambiguous_alphabet():
    for code in SAMPLE:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(ALPHABET)
        assert is_valid_label_code(code)
    assert not set("ILOUZ") & set(ALPHABET)
    assert len(set(SAMPLE)) == len(SAMPLE)


def test_check_symbol_catches_every_single_character_substitution():
    checked = 0
    for code in SAMPLE:
        for position in range(CODE_LENGTH):
            for symbol in ALPHABET:
                if symbol == code[position]:
                    continue
                typo = code[:position] + symbol + code[position + 1:]
                assert not is_valid_label_code(typo), (code, typo)
                checked += 1
    assert checked == len(SAMPLE) * CODE_LENGTH * (len(ALPHABET) - 1)


def test_check_symbol_catches_every_adjacent_swap():
    checked = 0
    for code in SAMPLE:
        for position in range(CODE_LENGTH - 1):
            a, b = code[position], code[position + 1]
            if a == b:
                continue
            swapped = code[:position] + b + a + code[position + 2:]
            assert not is_valid_label_code(swapped), (code, swapped)
            checked += 1
    assert checked > len(SAMPLE) * (CODE_LENGTH - 1) * 0.9


def test_check_symbol_also_catches_random_double_typos_most_of_the_time():
    # Not a promise of the scheme, a sanity check: about 1 in 31 random double typos slips through.
    rng = random.Random(3)
    slipped = 0
    for code in SAMPLE:
        chars = list(code)
        for position in rng.sample(range(CODE_LENGTH), 2):
            chars[position] = rng.choice([s for s in ALPHABET if s != chars[position]])
        slipped += is_valid_label_code("".join(chars))
    assert slipped < len(SAMPLE) * 0.15


@pytest.mark.parametrize("typed", ["k7qm4-tzx9p", " K7QM4 TZX9P ", "K7QM4_TZX9P", "k7qm4.tzx9p"])
def test_people_can_type_codes_loosely(typed):
    assert normalise_label_code(typed) == "K7QM4TZX9P"


def test_letters_that_look_like_digits_are_read_as_digits():
    assert normalise_label_code("O1IL") == "0111"


def test_codes_are_shown_in_two_groups():
    assert format_label_code("K7QM4TZX9P") == "K7QM4-TZX9P"
