"""Porting from `onepassword-sdk` is an import change: every public name of the official
package's modules exists in the same `sesame` module, with the same enum members and
model attributes, except for the features Sesame does not have (listed with why)."""

from __future__ import annotations

import enum
import importlib
import inspect
from typing import Any

import pytest

# Official names Sesame deliberately lacks.
NOT_IN_SESAME = {
    # Groups and environments are 1Password account features Sesame has no equivalent of.
    "Group",
    "GroupAccess",
    "GroupGetParams",
    "GroupState",
    "GroupType",
    "GroupVaultAccess",
    "EnvironmentVariable",
    "GetVariablesResponse",
    "Groups",
    "Environments",
    # The official SDK's internals (its FFI core and client handle).
    "InnerClient",
    "UniffiCore",
    "DesktopCore",
    # Desktop-app authentication: Sesame authenticates with service account tokens only.
    "DesktopAuth",
    "DesktopSessionExpiredException",
    # Per-item batch and resolve-all failures are one `ErrorEnvelope` type in Sesame
    # (a stable `code` plus details) instead of one class per reason.
    "ItemUpdateFailureReasonInternal",
    "ItemUpdateFailureReasonItemNotFound",
    "ItemUpdateFailureReasonItemStatusFileNotFound",
    "ItemUpdateFailureReasonItemStatusIncorrectItemVersion",
    "ItemUpdateFailureReasonItemStatusPermissionError",
    "ItemUpdateFailureReasonItemStatusTooBig",
    "ItemUpdateFailureReasonItemValidationError",
    "ItemsGetAllErrorInternal",
    "ItemsGetAllErrorItemNotFound",
    "ResolveReferenceErrorFieldNotFound",
    "ResolveReferenceErrorIncompatibleSshKeyQueryParameterField",
    "ResolveReferenceErrorIncompatibleTOTPQueryParameterField",
    "ResolveReferenceErrorItemNotFound",
    "ResolveReferenceErrorNoMatchingSections",
    "ResolveReferenceErrorOther",
    "ResolveReferenceErrorParsing",
    "ResolveReferenceErrorSSHKeyMetadataNotFound",
    "ResolveReferenceErrorTooManyItems",
    "ResolveReferenceErrorTooManyMatchingFields",
    "ResolveReferenceErrorTooManyVaults",
    "ResolveReferenceErrorUnableToFormatPrivateKeyToOpenSsh",
    "ResolveReferenceErrorUnableToGenerateTotpCode",
    "ResolveReferenceErrorUnableToParsePrivateKey",
    "ResolveReferenceErrorUnsupportedFileFormat",
    "ResolveReferenceErrorVaultNotFound",
    "Response",
    # pydantic discriminator enums (`…Types`): Sesame's union classes carry their tag as a
    # class attribute instead.
    "ItemFieldDetailsTypes",
    "ItemListFilterTypes",
    "ItemUpdateFailureReasonTypes",
    "ItemsGetAllErrorTypes",
    "PasswordRecipeTypes",
    "ResolveReferenceErrorTypes",
    "ValidRecipientTypes",
}

MODULES = ["types", "errors", "client", "secrets", "items", "items_files", "items_shares",
           "vaults", "defaults"]  # fmt: skip


def public_classes(module: Any) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_")
        and inspect.isclass(value)
        and value.__module__.startswith("onepassword")
    }


@pytest.mark.parametrize("module", MODULES)
def test_every_official_name_is_in_the_same_module(module: str) -> None:
    theirs = importlib.import_module(f"onepassword.{module}")
    ours = importlib.import_module(f"sesame.{module}")
    missing = sorted(set(public_classes(theirs)) - NOT_IN_SESAME - set(vars(ours)))
    assert not missing, f"sesame.{module} lacks {missing}"


def test_enum_members_and_values_match() -> None:
    import onepassword.types as theirs
    import sesame.types as ours

    for name, official in public_classes(theirs).items():
        if name in NOT_IN_SESAME or not issubclass(official, enum.Enum):
            continue
        mine = getattr(ours, name)
        for member, value in official.__members__.items():
            assert member in mine.__members__, f"{name}.{member} is missing"
            assert mine[member].value == value.value, f"{name}.{member}"


def test_model_attributes_match() -> None:
    import onepassword.types as theirs
    import sesame.types as ours

    for name, official in public_classes(theirs).items():
        fields = getattr(official, "model_fields", None)
        if name in NOT_IN_SESAME or fields is None:
            continue
        mine = getattr(ours, name)
        attributes = set(getattr(mine, "__slots__", ()))
        # The tag of a union variant is a class attribute in Sesame.
        attributes |= {k for k, v in vars(mine).items() if isinstance(v, str)}
        missing = sorted(set(fields) - attributes)
        assert not missing, f"{name} lacks {missing}"


def test_top_level_exports_everything() -> None:
    import onepassword
    import sesame

    missing = sorted(set(onepassword.__all__) - NOT_IN_SESAME - set(sesame.__all__))
    assert not missing, f"sesame lacks {missing}"
