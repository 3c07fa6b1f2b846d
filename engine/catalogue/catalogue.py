"""The licence catalogue: every licence's manual and the agencies that issue them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bizportal.engine.catalogue.forms import (
    FormDefinitionError,
    load_shared_fields,
    shared_fields_path,
)
from bizportal.engine.catalogue.manual import LicenceManual, ManualError, load_manual
from bizportal.engine.catalogue.yaml_files import load_yaml
from bizportal.engine.errors import DefinitionError, NotFound


class Agency(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    org_code: str
    name_th: str
    name_en: str
    level: str


@dataclass(frozen=True)
class Catalogue:
    licences: dict[str, LicenceManual]
    agencies: dict[str, Agency]

    def licence(self, code: str) -> LicenceManual:
        try:
            return self.licences[code]
        except KeyError as err:
            raise NotFound(f"licence {code!r} is not in the catalogue",
                           hint="GET /api/v1/licences lists the codes") from err

    def agency(self, code: str) -> Agency:
        return self.agencies[code]


def load_catalogue(root: Path) -> Catalogue:
    """Load `agencies.yaml` and every `*/manual.yaml` below `root`; a bad file stops start-up.

    Raises:
        DefinitionError: naming the file and field that is wrong.
    """
    agencies_file = root / "agencies.yaml"
    try:
        raw = load_yaml(agencies_file.read_text(encoding="utf-8"))
        agencies = {a.code: a for a in (Agency.model_validate(item) for item in raw["agencies"])}
    except (OSError, KeyError, TypeError, ValidationError, yaml.YAMLError) as err:
        raise DefinitionError(f"{agencies_file}: {err}") from err
    try:
        shared = load_shared_fields(shared_fields_path(root))
    except FormDefinitionError as err:
        raise DefinitionError(str(err)) from err
    licences: dict[str, LicenceManual] = {}
    for path in sorted(root.glob("*/manual.yaml")):
        try:
            manual = load_manual(path, shared)
        except ManualError as err:
            raise DefinitionError(str(err)) from err
        if manual.code != path.parent.name:
            raise DefinitionError(f"{path}: code {manual.code!r} must match its folder name {path.parent.name!r}")
        if manual.agency not in agencies:
            raise DefinitionError(f"{path}: agency {manual.agency!r} is not in {agencies_file.name}")
        if not (path.parent / "process.bpmn").exists():
            raise DefinitionError(f"{path}: the licence has no process.bpmn beside its manual")
        licences[manual.code] = manual
    return Catalogue(licences=licences, agencies=agencies)
