"""The strict params policy covers the emoxnet section: misspelt keys and dangling model names stop the run."""

from __future__ import annotations

import copy

import pytest
import yaml

from pipeline.core.params import ParamsError
from pipeline.params.load import check_params


@pytest.fixture(scope="module")
def params(repo_root):
    return yaml.safe_load((repo_root / "params.yaml").read_text())


def test_repository_params_pass(params):
    checked = check_params(copy.deepcopy(params))
    assert checked["emoxnet"]["lite"]["loss"]["name"] == "smoothed_kd"
    assert checked["data"]["ferplus_classes"] in (7, 8)


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["emoxnet"]["lite"].update(epoch=3), "unknown key 'epoch' in section 'emoxnet.lite'"),
    (lambda p: p["emoxnet"]["members"]["vgg13"].update(model="vgg16"), "emoxnet.members.vgg13.model"),
    (lambda p: p["emoxnet"]["ensemble"].update(rule="median"), "emoxnet.ensemble.rule"),
    (lambda p: p["data"].update(ferplus_classes=6), "data.ferplus_classes"),
    (lambda p: p["emoxnet"].update(members={}), "emoxnet.members"),
])
def test_bad_emoxnet_params_name_the_key(params, edit, message):
    broken = copy.deepcopy(params)
    edit(broken)
    with pytest.raises(ParamsError, match=message.replace(".", r"\.").replace("'", "'")):
        check_params(broken)
