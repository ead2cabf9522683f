"""template.yaml: a valid SAM template whose layer is exactly what the build produced."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode import decode
from conftest import ROOT, BuiltLayer

TEMPLATE = ROOT / "template.yaml"
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def load(path: Path = TEMPLATE) -> dict:
    template, errors = decode(str(path))
    assert not errors, errors
    return template


def layer_resource(template: dict) -> dict:
    (resource,) = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::LayerVersion"
    ]
    return resource


def disagreements(template: dict, manifest: dict) -> list[str]:
    """Where the template's layer differs from what the manifest says was built."""
    properties = layer_resource(template)["Properties"]
    expected = {
        "LayerName": manifest["name"],
        "ContentUri": f"dist/{manifest['zip']}",
        "CompatibleRuntimes": manifest["compatible_runtimes"],
        "CompatibleArchitectures": manifest["compatible_architectures"],
        "LicenseInfo": manifest["license"],
        "RetentionPolicy": "Retain",
    }
    return [
        f"{key}: template has {properties.get(key)!r}, the build {value!r}"
        for key, value in expected.items()
        if properties.get(key) != value
    ]


def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        [str(CFN_LINT), str(TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_would_catch_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text().replace("RetentionPolicy:", "RetentionPolicyy:"))

    result = subprocess.run(
        [str(CFN_LINT), str(broken)], capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert "RetentionPolicyy" in result.stdout


@pytest.mark.layer
def test_the_layer_is_what_the_build_produced(built_layer: BuiltLayer) -> None:
    assert disagreements(load(), built_layer.manifest) == []


@pytest.mark.layer
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("compatible_runtimes", ["python3.12", "python3.13", "python3.14"]),
        ("compatible_architectures", ["x86_64"]),
        ("zip", "cached-clients-9.9.9.zip"),
        ("license", "Apache-2.0"),
    ],
)
def test_a_template_that_drifted_from_the_build_is_caught(
    built_layer: BuiltLayer, key: str, value: object
) -> None:
    drifted = {**built_layer.manifest, key: value}
    assert len(disagreements(load(), drifted)) == 1


def test_the_layer_version_arn_is_exported() -> None:
    template = load()
    (name,) = [
        key for key, value in template["Resources"].items() if value == layer_resource(template)
    ]
    output = template["Outputs"]["LayerVersionArn"]

    assert output["Value"] == {"Ref": name}
    assert output["Export"]["Name"] == {"Fn::Sub": "${AWS::StackName}-LayerVersionArn"}


def test_the_example_function_attaches_the_layer_and_runs_the_example_handler() -> None:
    template = load()
    layer_name = next(
        key
        for key, value in template["Resources"].items()
        if value["Type"] == "AWS::Serverless::LayerVersion"
    )
    (function,) = [
        value["Properties"]
        for value in template["Resources"].values()
        if value["Type"] == "AWS::Serverless::Function"
    ]
    layer = layer_resource(template)["Properties"]

    assert function["Layers"] == [{"Ref": layer_name}]
    assert function["Runtime"] in layer["CompatibleRuntimes"]
    assert set(function["Architectures"]) <= set(layer["CompatibleArchitectures"])

    module, function_name = function["Handler"].rsplit(".", 1)
    source = ROOT / function["CodeUri"] / f"{module}.py"
    defined = {node.name for node in ast.parse(source.read_text()).body if hasattr(node, "name")}
    assert function_name in defined
    assert set(function["Environment"]["Variables"]) >= {"ACCOUNTS_ROLE_ARN", "ACCOUNTS_TABLE"}
