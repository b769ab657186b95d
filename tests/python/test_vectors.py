"""The shared vectors (tests/vectors) that concern the public SDK surface, through it:
references.json with `Secrets.validate_secret_reference`, totp.json with
`Secrets.generate_totp_code`, and `Secrets.generate_password` recipes. The properties
are those crates/core/tests/{reference_vectors,totp_vectors,password_generator}.rs check,
as far as the Python API exposes them.

There are no password vectors (passwords are random): the recipe tests check lengths,
alphabets, separators, word lists, entropy and range errors instead. tokens.json,
crypto.json and share.json concern formats below the SDK surface.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import math
import pathlib
import re
import string
import time
from collections.abc import Callable
from typing import Any

import pytest
import sesame
from sesame import (
    InvalidInputError,
    InvalidReferenceError,
    PasswordRecipe,
    PasswordRecipeMemorable,
    PasswordRecipeMemorableInner,
    PasswordRecipePin,
    PasswordRecipePinInner,
    PasswordRecipeRandom,
    PasswordRecipeRandomInner,
    SeparatorType,
    SesameError,
    WordListType,
)
from sesame.secrets import SyncSecrets

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"

# The static offline calls exist on both classes; both must behave the same.
SECRETS_CLASSES = [sesame.Secrets, SyncSecrets]
ON_BOTH = pytest.mark.parametrize("api", SECRETS_CLASSES, ids=["Secrets", "SyncSecrets"])


def load(name: str) -> dict[str, Any]:
    document = json.loads((VECTORS / name).read_text())
    assert isinstance(document, dict) and isinstance(document["description"], str)
    return document


def outcome(call: Callable[[], Any]) -> Any:
    """What `call` returned, or the exception it raised."""
    try:
        return call()
    except Exception as e:
        return e


# ---------- references.json ----------

REFERENCES = load("references.json")["cases"]


def test_there_are_enough_reference_cases() -> None:
    assert len(REFERENCES) >= 150, len(REFERENCES)
    assert {case["valid"] for case in REFERENCES} == {True, False}


@ON_BOTH
def test_valid_references_pass(api: Any) -> None:
    failures = []
    for case in REFERENCES:
        if case["valid"] is True:
            got = outcome(functools.partial(api.validate_secret_reference, case["input"]))
            if got is not None:
                failures.append(f"{case['input']!r}: {got!r}")
    assert not failures, "\n".join(failures)


@ON_BOTH
def test_invalid_references_fail_with_their_kind_offset_and_segment(api: Any) -> None:
    failures = []
    for case in REFERENCES:
        if case["valid"] is True:
            continue
        text = case["input"]
        want = {"kind": case["error"], "offset": case["offset"], "segment": case["segment"]}
        error = outcome(functools.partial(api.validate_secret_reference, text))
        if not isinstance(error, InvalidReferenceError):
            failures.append(f"{text!r}: got {error!r}, want InvalidReferenceError {want}")
            continue
        # Also a ValueError, so `except ValueError` written for other libraries works.
        assert isinstance(error, ValueError) and error.code == "invalid_reference"
        details: Any = error.details.get("reference")
        got = {key: details.get(key) for key in want} if isinstance(details, dict) else details
        if got != want:
            failures.append(f"{text!r}: got {got}, want {want}")
            continue
        # The offset is a byte offset at a character boundary of the UTF-8 input.
        try:
            text.encode()[: details["offset"]].decode()
        except UnicodeDecodeError:
            failures.append(f"{text!r}: offset {details['offset']} splits a character")
        hint = details.get("hint")
        if not isinstance(hint, str) or not hint:
            failures.append(f"{text!r}: no hint in {details}")
        elif not (error.message.startswith("invalid secret reference: ") and hint in error.message):
            failures.append(f"{text!r}: message {error.message!r} lacks its hint")
    assert not failures, "\n".join(failures)


# ---------- totp.json ----------

TOTP = load("totp.json")
HASHES = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def hotp(secret_hex: str, counter: int, digits: int, algorithm: str) -> str:
    """RFC 4226 HOTP, written independently of Sesame (checked against the RFC tables
    below) to check the codes the SDK computes for the current time."""
    mac = hmac.new(bytes.fromhex(secret_hex), counter.to_bytes(8, "big"), HASHES[algorithm])
    digest = mac.digest()
    start = digest[-1] & 0x0F
    number = int.from_bytes(digest[start : start + 4], "big") & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def base32(secret_hex: str) -> str:
    return base64.b32encode(bytes.fromhex(secret_hex)).decode("ascii").rstrip("=")


def totp_uri(case: dict[str, Any]) -> str:
    """An otpauth URI for a row of the RFC 6238 table (which gives only the secret), as
    the Rust test builds it."""
    return (
        f"otpauth://totp/RFC:test?secret={base32(case['secret_hex'])}"
        f"&algorithm={case['algorithm']}&digits={case['digits']}&period={case['period']}"
    )


def secret_in(text: str) -> str | None:
    """The secret an input carries, to check that no error message repeats it."""
    if "secret=" in text:
        secret = text.split("secret=", 1)[1].split("&", 1)[0]
    elif "://" not in text:
        secret = text.strip()
    else:
        return None
    return secret if len(secret) >= 8 else None


def check_current_code(api: Any, text: str, case: dict[str, Any]) -> None:
    """The SDK cannot take a time: it gives the code of the current window. Checks the
    window (it holds the time of the call, one period long) and the code, computed here
    for that window."""
    period, digits = case["period"], case["digits"]
    before = math.floor(time.time())
    code = api.generate_totp_code(text)
    after = math.ceil(time.time())
    assert re.fullmatch(f"[0-9]{{{digits}}}", code.code), (text, len(code.code))
    assert code.valid_until - code.valid_from == period, text
    assert code.valid_from % period == 0, text
    assert before // period * period <= code.valid_from <= after, text
    assert code.valid_until - after <= code.expires_in_seconds <= code.valid_until - before
    assert 0 < code.expires_in_seconds <= period, text
    counter = code.valid_from // period
    assert code.code == hotp(case["secret_hex"], counter, digits, case["algorithm"]), text


def test_the_reference_hotp_matches_the_rfc_tables() -> None:
    # What the checks of the SDK's codes rest on.
    assert len(TOTP["hotp"]) == 10 and len(TOTP["totp"]) == 18
    for case in TOTP["hotp"]:
        got = hotp(case["secret_hex"], case["counter"], case["digits"], case["algorithm"])
        assert got == case["code"], case
    for case in TOTP["totp"]:
        counter = case["time"] // case["period"]
        got = hotp(case["secret_hex"], counter, case["digits"], case["algorithm"])
        assert got == case["code"], case
    for case in TOTP["parse_valid"]:
        if case["kind"] == "totp":
            counter = case["time"] // case["period"]
        else:
            counter = case["counter"]
        got = hotp(case["secret_hex"], counter, case["digits"], case["algorithm"])
        assert got == case["code"], case["note"]


@ON_BOTH
def test_rfc6238_table_through_the_sdk(api: Any) -> None:
    for case in TOTP["totp"]:
        check_current_code(api, totp_uri(case), case)


@ON_BOTH
def test_valid_totp_inputs_give_the_code_of_their_parameters(api: Any) -> None:
    cases = [case for case in TOTP["parse_valid"] if case["kind"] == "totp"]
    assert cases
    for case in cases:
        check_current_code(api, case["input"], case)
        # The bare secret means SHA1, 6 digits, 30 seconds.
        bare = {**case, "algorithm": "SHA1", "digits": 6, "period": 30}
        check_current_code(api, base32(case["secret_hex"]), bare)


@ON_BOTH
def test_hotp_uris_are_refused(api: Any) -> None:
    # generate_totp_code computes time-based codes only; a counter-based URI is an error,
    # not a code of the wrong kind.
    cases = [case for case in TOTP["parse_valid"] if case["kind"] == "hotp"]
    assert cases
    for case in cases:
        with pytest.raises(InvalidInputError) as raised:
            api.generate_totp_code(case["input"])
        assert raised.value.details.get("argument") == "totp.uri", case["note"]


@ON_BOTH
def test_invalid_totp_inputs_fail_with_their_argument_and_message(api: Any) -> None:
    assert any(case["kind"] == "totp" for case in TOTP["parse_invalid"])
    failures = []
    for case in TOTP["parse_invalid"]:
        text = case["input"]
        error = outcome(functools.partial(api.generate_totp_code, text))
        if case["kind"] != "totp":
            # The vector gives Hotp::from_uri's verdict, which the SDK does not expose (it
            # accepts the TOTP URIs among them); whatever it says must not hold the secret.
            if isinstance(error, SesameError) and (secret := secret_in(text)) is not None:
                assert secret not in error.message, case["note"]
            continue
        if not isinstance(error, InvalidInputError):
            failures.append(f"{case['note']}: got {error!r}, want InvalidInputError")
            continue
        assert isinstance(error, ValueError) and error.code == "invalid_input"
        argument = error.details.get("argument")
        if argument != case["what"] or case["message_contains"] not in error.message:
            failures.append(
                f"{case['note']}: got {argument} {error.message!r}, want {case['what']} "
                f"with {case['message_contains']!r}"
            )
        secret = secret_in(text)
        if secret is not None and secret in error.message:
            failures.append(f"{case['note']}: the message repeats the secret")
    assert not failures, "\n".join(failures)


# ---------- generate_password ----------

# crates/core/src/password/mod.rs: RANDOM_LETTERS, RANDOM_DIGITS, SYMBOLS.
RANDOM_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz"
RANDOM_DIGITS = "23456789"
SYMBOLS = "!#$%&()*+,-./:;<=>?@[]^_{}~"
LOOK_ALIKES = "0Oo1lI|"
FULL_WORDS = frozenset(
    (ROOT / "crates" / "core" / "data" / "eff_large_wordlist.txt").read_text().split()
)
SEPARATORS: dict[str, Callable[[str], bool]] = {
    "digits": lambda gap: gap in string.digits,
    "digitsAndSymbols": lambda gap: gap in string.digits or gap in SYMBOLS,
    "spaces": lambda gap: gap == " ",
    "hyphens": lambda gap: gap == "-",
    "underscores": lambda gap: gap == "_",
    "periods": lambda gap: gap == ".",
    "commas": lambda gap: gap == ",",
}
WORD_LISTS: dict[str, tuple[int, Callable[[str], bool]]] = {
    # Size of the list, and whether a (lowercased) word belongs to it.
    "fullWords": (7772, FULL_WORDS.__contains__),
    "syllables": (
        1710,
        lambda word: len(word) in (2, 3) and word[1] in "aeiou" and word[0] not in "aeiouqxy",
    ),
    "threeLetters": (17_576, lambda word: len(word) == 3),
}


def pin(length: int) -> PasswordRecipe:
    return PasswordRecipePin(PasswordRecipePinInner(length=length))


def random_recipe(length: int, digits: bool, symbols: bool) -> PasswordRecipe:
    return PasswordRecipeRandom(
        PasswordRecipeRandomInner(include_digits=digits, include_symbols=symbols, length=length)
    )


def memorable(count: int, separator: str, capitalize: bool, words: str) -> PasswordRecipe:
    return PasswordRecipeMemorable(
        PasswordRecipeMemorableInner(
            capitalize=capitalize,
            separator_type=SeparatorType(separator),
            word_count=count,
            word_list_type=WordListType(words),
        )
    )


def generate(api: Any, recipe: PasswordRecipe) -> tuple[str, float]:
    generated = api.generate_password(recipe)
    assert isinstance(generated.password, str) and isinstance(generated.entropy_bits, float)
    return generated.password, generated.entropy_bits


def test_the_enums_hold_every_separator_and_word_list() -> None:
    assert {member.value for member in SeparatorType} == set(SEPARATORS)
    assert {member.value for member in WordListType} == set(WORD_LISTS)


@ON_BOTH
def test_pin_is_digits_of_its_length(api: Any) -> None:
    for length in (4, 8, 12):
        for _ in range(20):
            password, bits = generate(api, pin(length))
            assert re.fullmatch(f"[0-9]{{{length}}}", password), len(password)
            assert math.isclose(bits, length * math.log2(10), abs_tol=1e-9)


@ON_BOTH
def test_random_uses_its_alphabet_and_never_look_alikes(api: Any) -> None:
    for digits in (False, True):
        for symbols in (False, True):
            allowed = RANDOM_LETTERS + RANDOM_DIGITS * digits + SYMBOLS * symbols
            for length in (8, 9, 32, 100):
                for _ in range(10):
                    password, _ = generate(api, random_recipe(length, digits, symbols))
                    assert len(password) == length
                    assert set(password) <= set(allowed), (digits, symbols)
                    assert not set(password) & set(LOOK_ALIKES)
                    # Each class asked for appears at least once.
                    assert bool(set(password) & set(RANDOM_DIGITS)) == digits
                    assert bool(set(password) & set(SYMBOLS)) == symbols


@ON_BOTH
def test_random_entropy_counts_the_allowed_strings(api: Any) -> None:
    # 48 letters, 8 digits, 27 symbols: strings of the alphabet holding every class asked
    # for, counted by inclusion-exclusion.
    for n in (8, 12, 20):
        counts = {
            (False, False): 48**n,
            (True, False): 56**n - 48**n,
            (False, True): 75**n - 48**n,
            (True, True): 83**n - 75**n - 56**n + 48**n,
        }
        for (digits, symbols), count in counts.items():
            _, bits = generate(api, random_recipe(n, digits, symbols))
            assert math.isclose(bits, math.log2(count), abs_tol=1e-9), (n, digits, symbols)


@ON_BOTH
def test_memorable_words_separators_and_entropy(api: Any) -> None:
    for separator, is_separator in SEPARATORS.items():
        for list_name, (size, in_list) in WORD_LISTS.items():
            for capitalize in (False, True):
                for count in (3, 7, 15):
                    recipe = memorable(count, separator, capitalize, list_name)
                    password, bits = generate(api, recipe)
                    words = re.split(r"[^A-Za-z]", password)
                    gaps = re.findall(r"[^A-Za-z]", password)
                    assert len(words) == count and len(gaps) == count - 1, recipe
                    assert all(map(is_separator, gaps)), (separator, gaps)
                    capitals = [w for w in words if w.isupper()]
                    # Capitalize: one word in capitals, the others lowercase.
                    assert len(capitals) == int(capitalize), recipe
                    assert all(w.isupper() or w.islower() for w in words)
                    assert all(set(w) <= set(string.ascii_letters) for w in words)
                    unknown = [w for w in words if not in_list(w.lower())]
                    assert not unknown, (list_name, unknown)
                    separators = {"digits": 10, "digitsAndSymbols": 37}.get(separator, 1)
                    want = (
                        count * math.log2(size)
                        + (count - 1) * math.log2(separators)
                        + (math.log2(count) if capitalize else 0.0)
                    )
                    assert math.isclose(bits, want, abs_tol=1e-9), recipe


# (recipe, the argument its error names, the allowed range, the value given)
BAD_RECIPES = [
    (pin(3), "recipe.length", (4, 12), 3),
    (pin(13), "recipe.length", (4, 12), 13),
    (pin(0), "recipe.length", (4, 12), 0),
    (random_recipe(7, True, True), "recipe.length", (8, 100), 7),
    (random_recipe(101, False, False), "recipe.length", (8, 100), 101),
    (memorable(2, "spaces", True, "syllables"), "recipe.wordCount", (3, 15), 2),
    (memorable(16, "hyphens", False, "fullWords"), "recipe.wordCount", (3, 15), 16),
]


@ON_BOTH
@pytest.mark.parametrize(("recipe", "argument", "bounds", "given"), BAD_RECIPES)
def test_bad_recipes_name_their_argument(
    api: Any, recipe: PasswordRecipe, argument: str, bounds: tuple[int, int], given: int
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        api.generate_password(recipe)
    assert isinstance(raised.value, ValueError)
    assert raised.value.details.get("argument") == argument
    low, high = bounds
    want = f"invalid {argument}: must be between {low} and {high}, got {given}"
    assert raised.value.message == want


@ON_BOTH
@pytest.mark.parametrize("length", [-1, 2**32, 4.5])
def test_lengths_the_wire_cannot_carry_are_invalid_input(api: Any, length: Any) -> None:
    # Not a u32: refused as input (not a crash, not another error class).
    with pytest.raises(InvalidInputError) as raised:
        api.generate_password(pin(length))
    assert isinstance(raised.value, SesameError) and raised.value.details.get("argument")


def test_passwords_differ() -> None:
    recipe = random_recipe(16, True, True)
    assert generate(sesame.Secrets, recipe)[0] != generate(sesame.Secrets, recipe)[0]
