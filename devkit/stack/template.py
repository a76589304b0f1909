"""Reads ``template.yaml`` and resolves the intrinsic functions the local stack needs."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devkit.inputs import InputError

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
# What ``!Ref AWS::NoValue`` resolves to: the list item or mapping key holding it is left out.
NO_VALUE = object()


class _CfnLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """YAML with CloudFormation's short-form tags (``!Ref``, ``!Sub``, ``!GetAtt``...)."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


_PARSED: dict[tuple[Path, int, int], dict[str, Any]] = {}


def _parsed(path: Path) -> dict[str, Any]:
    """The template's body, a copy of the one parsed while the file is unchanged: a stack per test reads it."""
    status = path.stat()
    key = (path.resolve(), status.st_mtime_ns, status.st_size)
    if key not in _PARSED:
        _PARSED[key] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return copy.deepcopy(_PARSED[key])


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    environment: dict[str, Any]


class Template:
    def __init__(self, path: Path, parameters: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.root = path.parent
        self.body: dict[str, Any] = _parsed(path)
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in (self.body.get("Parameters") or {}).items()
        }
        self.parameters.update(parameters or {})

    def resolver(self, physical: Mapping[str, Mapping[str, str]], stack_name: str) -> Resolver:
        return Resolver(self.parameters, physical, stack_name, self.body.get("Conditions"))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.body["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res["Type"] == resource_type}

    def vendor_functions(self) -> dict[str, str]:
        """vendor name -> function logical id, in template order: every function with an SQS event and a VENDOR."""
        functions = {}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            properties = resource["Properties"]
            vendor = ((properties.get("Environment") or {}).get("Variables") or {}).get("VENDOR")
            if vendor and any(event["Type"] == "SQS" for event in (properties.get("Events") or {}).values()):
                functions[str(vendor)] = logical_id
        return functions

    def function(self, logical_id: str) -> FunctionSpec:
        functions = self.of_type("AWS::Serverless::Function")
        if logical_id not in functions:
            raise InputError(f"{logical_id} is not a function in {self.path.name}; functions: {', '.join(functions)}")
        globals_ = (self.body.get("Globals") or {}).get("Function") or {}
        props = {**globals_, **functions[logical_id]["Properties"]}
        environment = {
            **((globals_.get("Environment") or {}).get("Variables") or {}),
            **((functions[logical_id]["Properties"].get("Environment") or {}).get("Variables") or {}),
        }
        return FunctionSpec(
            logical_id=logical_id,
            code_uri=self.root / str(props["CodeUri"]),
            handler=str(props["Handler"]),
            timeout=int(props.get("Timeout", 3)),
            environment=environment,
        )


class Resolver:
    """Resolves Ref, GetAtt, Sub, Join and If (with the template's Conditions: Equals, Not, And, Or)
    against parameters and the local physical resources."""

    def __init__(
        self,
        parameters: Mapping[str, str],
        physical: Mapping[str, Mapping[str, str]],
        stack_name: str,
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self.parameters = parameters
        self.physical = physical
        self.conditions = conditions or {}
        self.pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, value: Any) -> Any:
        """``value`` resolved; a property or item that is ``!Ref AWS::NoValue`` is left out, as CloudFormation does."""
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref":
                return self._ref(str(argument))
            if name == "Fn::GetAtt":
                logical, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
                return self.physical[logical][attribute]
            if name == "Fn::Sub":
                return self._sub(argument)
            if name == "Fn::Join":
                separator, items = argument
                return str(separator).join(str(item) for item in self.resolve(items))
            if name == "Fn::ToJsonString":
                return json.dumps(self.resolve(argument))
            if name == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.condition(str(condition)) else when_false)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool:
        return self._truth(self.conditions[name])

    def _truth(self, expression: Any) -> bool:
        ((name, argument),) = expression.items()
        if name == "Condition":
            return self.condition(str(argument))
        if name == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return bool(str(left) == str(right))
        if name == "Fn::Not":
            return not self._truth(argument[0])
        if name == "Fn::And":
            return all(self._truth(item) for item in argument)
        if name == "Fn::Or":
            return any(self._truth(item) for item in argument)
        raise ValueError(f"unsupported condition function {name}")

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        return self.physical[name]["Ref"]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return str(self.physical[logical][attribute])
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")
