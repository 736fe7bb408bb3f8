"""Models from Python: dlnmf.train writes the very .npz that `dlnmf train`
writes for the same audio and settings; load_model reads what is recorded."""

import os

import numpy as np
import pytest

import dlnmf
from conftest import run_cli

SMALL = ["--iters", 10, "--infer-iters", 10, "--rounds", 2, "--disc-iters", 5]
SMALL_PY = dict(iters=10, infer_iters=10, rounds=2, disc_iters=5)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_train_from_folders_writes_the_clis_file(speech, cli, tmp_path):
    run_cli(cli, "train", "--method", "nmf", "--k", 6, "--speaker", f"alice={speech['alice']['dir']}",
            "--speaker", f"bob={speech['bob']['dir']}", *SMALL, "--quiet", "-o", tmp_path / "cli.npz")
    m = dlnmf.train({"alice": speech["alice"]["dir"], "bob": speech["bob"]["dir"]}, method="nmf", sizes=[6],
                    **SMALL_PY)
    m.save(tmp_path / "py.npz")
    assert _read(tmp_path / "py.npz") == _read(tmp_path / "cli.npz")
    assert m.to_bytes() == _read(tmp_path / "cli.npz")


def test_train_from_file_lists_and_arrays(speech, cli, tmp_path):
    files = {n: sorted(os.path.join(s["dir"], f) for f in os.listdir(s["dir"])) for n, s in speech.items()}
    lists = []
    for n, fs in files.items():
        (tmp_path / f"{n}.txt").write_text("\n".join(fs) + "\n")
        lists += ["--speaker", f"{n}=@{tmp_path / (n + '.txt')}"]
    run_cli(cli, "train", "--method", "lnmf", "--layers", "12,4", *lists, *SMALL, "--seed", 3, "--quiet",
            "-o", tmp_path / "cli.npz")
    want = _read(tmp_path / "cli.npz")
    assert dlnmf.train(files, method="lnmf", sizes=[12, 4], seed=3, **SMALL_PY).to_bytes() == want
    # the same samples as arrays (the files hold them as 16-bit PCM)
    arrays = {n: s["train"] for n, s in speech.items()}
    assert dlnmf.train(arrays, method="lnmf", sizes=[12, 4], seed=3, **SMALL_PY).to_bytes() == want


def test_train_dlnmf_with_disc_folders(speech, cli, tmp_path):
    run_cli(cli, "train", "--method", "dlnmf", "--layers", "12,4", *SMALL, "--quiet",
            "--speaker", f"alice={speech['alice']['dir']}", "--speaker", f"bob={speech['bob']['dir']}",
            "--disc", f"alice={speech['alice']['disc']}", "--disc", f"bob={speech['bob']['disc']}",
            "-o", tmp_path / "cli.npz")
    m = dlnmf.train({n: s["dir"] for n, s in speech.items()}, disc={n: s["disc"] for n, s in speech.items()},
                    method="dlnmf", sizes=[12, 4], **SMALL_PY)
    assert m.to_bytes() == _read(tmp_path / "cli.npz")
    assert m.meta["training"]["mixtures"] == 2 and m.meta["training"]["rounds"] == 2


def test_train_reconstruction_bases_as_the_cli_does(speech, cli, tmp_path):
    # Reconstruction bases for the model's own inference on the
    # discriminative mixtures, two pairings of the held-back files.
    run_cli(cli, "train", "--method", "nmf", "--k", 6, *SMALL, "--quiet", "--reconstruction-bases",
            "--deep-epochs", 3, "--disc-pairings", 2,
            "--speaker", f"alice={speech['alice']['dir']}", "--speaker", f"bob={speech['bob']['dir']}",
            "--disc", f"alice={speech['alice']['disc']}", "--disc", f"bob={speech['bob']['disc']}",
            "-o", tmp_path / "cli.npz")
    m = dlnmf.train({n: s["dir"] for n, s in speech.items()}, disc={n: s["disc"] for n, s in speech.items()},
                    method="nmf", sizes=[6], reconstruction_bases=True, deep_epochs=3, disc_pairings=2, **SMALL_PY)
    assert m.to_bytes() == _read(tmp_path / "cli.npz")
    assert "reconstruction" in m.meta and "unfold" not in m.meta
    assert m.meta["training"]["mixtures"] == 4 and m.meta["training"]["deep_epochs"] == 3
    x = speech["alice"]["train"][0][:16000] + speech["bob"]["train"][0][:16000]
    plain = dlnmf.train({n: s["dir"] for n, s in speech.items()}, method="nmf", sizes=[6], **SMALL_PY)
    assert not np.array_equal(m.separate(x, 16000)["alice"], plain.separate(x, 16000)["alice"])
    with pytest.raises(ValueError, match="disc_pairings must be"):
        dlnmf.train({n: s["dir"] for n, s in speech.items()}, method="nmf", reconstruction_bases=True, disc_pairings=0)


def test_train_preset_as_the_cli_does(speech, cli, tmp_path):
    # The validated preset trains reconstruction bases for 2 speakers, on 4
    # pairings of the held-back files, as dlnmf train's default does;
    # reconstruction_bases=False (--reconstruction-bases=false) none.
    speakers = ["--speaker", f"alice={speech['alice']['dir']}", "--speaker", f"bob={speech['bob']['dir']}"]
    run_cli(cli, "train", "--k", 6, *SMALL, "--quiet", "--deep-epochs", 3, *speakers, "-o", tmp_path / "cli.npz")
    m = dlnmf.train({n: s["dir"] for n, s in speech.items()}, sizes=[6], deep_epochs=3, **SMALL_PY)
    assert m.to_bytes() == _read(tmp_path / "cli.npz")
    assert "reconstruction" in m.meta and m.meta["training"]["mixtures"] > 0
    run_cli(cli, "train", "--k", 6, *SMALL, "--quiet", "--reconstruction-bases=false", *speakers, "-o", tmp_path / "none.npz")
    none = dlnmf.train({n: s["dir"] for n, s in speech.items()}, sizes=[6], reconstruction_bases=False, **SMALL_PY)
    assert none.to_bytes() == _read(tmp_path / "none.npz")
    assert "reconstruction" not in none.meta


def test_train_dlnmf_holds_back_a_share_as_the_cli_does(speech, cli, tmp_path):
    # Without disc, a seeded share of each speaker's files is held back for
    # the discriminative mixtures (recording.Train), as dlnmf train does.
    run_cli(cli, "train", "--method", "dlnmf", "--layers", "12,4", *SMALL, "--quiet", "--disc-share", "0.34",
            "--speaker", f"alice={speech['alice']['dir']}", "--speaker", f"bob={speech['bob']['dir']}",
            "-o", tmp_path / "cli.npz")
    m = dlnmf.train({n: s["dir"] for n, s in speech.items()}, method="dlnmf", sizes=[12, 4], disc_share=0.34,
                    **SMALL_PY)
    assert m.to_bytes() == _read(tmp_path / "cli.npz")
    assert m.meta["training"]["mixtures"] == 1 and m.meta["training"]["utterances"] == [2, 2]


def test_train_universal_model_as_the_cli_does(speech, cli, tmp_path):
    run_cli(cli, "train", "--method", "nmf", "--k", "6", "--iters", "10", "--quiet",
            "--speaker", f"alice={speech['alice']['dir']}",
            "--universal", f"speech={speech['bob']['dir']}", "--universal-prune", "0",
            "-o", tmp_path / "cli.npz")
    m = dlnmf.train({"alice": speech["alice"]["dir"]}, method="nmf", sizes=[6], iters=10,
                    universal={"bob": speech["bob"]["dir"]}, universal_prune=0)
    assert m.universal is not None
    assert m.to_bytes() == _read(tmp_path / "cli.npz")


def test_train_presets_as_the_cli(speech, cli, tmp_path):
    # No method: the validated preset, as dlnmf train without --method;
    # overrides apply to it; preset and method together are refused.
    small = ["--iters", "5"]
    run_cli(cli, "train", *small, "--quiet", "--k", "30", "--sparsity", "0",
            "--speaker", f"alice={speech['alice']['dir']}", "--speaker", f"bob={speech['bob']['dir']}",
            "-o", tmp_path / "cli.npz")
    m = dlnmf.train({n: s["dir"] for n, s in speech.items()}, iters=5, sizes=[30], sparsity=0)
    assert m.to_bytes() == _read(tmp_path / "cli.npz")
    assert m.method == "nmf" and m.meta["context"] == 5 and m.meta["mask"]["exponent"] == 2
    assert m.meta["inference"]["bands"] == 128 and len(m.meta["inference"]["band_edges"]) == 129
    with pytest.raises(dlnmf.Error, match="give one"):
        dlnmf.train({n: s["dir"] for n, s in speech.items()}, preset="paper", method="nmf")


def test_load_model_reads_the_recorded_settings(speech, tmp_path):
    m = dlnmf.train({n: s["train"] for n, s in speech.items()}, method="nmf", sizes=[5], iters=5, mask_power=2)
    m.save(tmp_path / "m.npz")
    got = dlnmf.load_model(tmp_path / "m.npz")
    assert got.speakers == ["alice", "bob"] and got.sample_rate == 16000 and got.method == "nmf"
    assert got.meta["sizes"] == [5] and got.meta["stft"]["fft_size"] == 1024 and got.meta["mask"]
    assert got.meta["training"]["iterations"] == 5 and got.universal is None
    assert got.to_bytes() == _read(tmp_path / "m.npz")
    np_meta = np.load(tmp_path / "m.npz")
    assert sorted(np_meta.files) == ["meta", "s0_W1", "s1_W1"]


def test_train_records_default_bands(speech):
    # bands=N records the bands the activations are inferred on by default,
    # as dlnmf train --bands N: separate's default is then bands=N, and
    # bands=-1 infers on every bin.
    m = dlnmf.train({n: s["train"] for n, s in speech.items()}, method="nmf", sizes=[5], iters=5, bands=32)
    assert m.meta["inference"]["bands"] == 32 and len(m.meta["inference"]["band_edges"]) == 33
    x = speech["alice"]["train"][0][:16000] + speech["bob"]["train"][0][:16000]
    default, on32, every = (m.separate(x, 16000, **kw) for kw in ({}, {"bands": 32}, {"bands": -1}))
    assert all(np.array_equal(default[k], on32[k]) for k in default)
    assert not np.array_equal(default["alice"], every["alice"])
    assert "bands" not in dlnmf.train({n: s["train"] for n, s in speech.items()}, method="nmf", sizes=[5],
                                      iters=5).meta["inference"]
    with pytest.raises(dlnmf.Error, match="bands"):
        dlnmf.train({n: s["train"] for n, s in speech.items()}, method="nmf", sizes=[5], iters=5, bands=1)


def test_train_records_default_step(speech):
    # step_exponent and separate_iters record the inference separate runs
    # by default, as dlnmf train --step-exponent E --separate-iters N:
    # separate's defaults are then those, and step_exponent=1 is the usual
    # update.
    train = {n: s["train"] for n, s in speech.items()}
    m = dlnmf.train(train, method="nmf", sizes=[5], iters=5, step_exponent=1.5, separate_iters=20)
    assert m.meta["inference"]["step_exponent"] == 1.5 and m.meta["inference"]["iterations"] == 20
    x = speech["alice"]["train"][0][:16000] + speech["bob"]["train"][0][:16000]
    default, stepped, usual = (m.separate(x, 16000, tol=-1, **kw) for kw in
                               ({}, {"step_exponent": 1.5, "iters": 20}, {"step_exponent": 1, "iters": 20}))
    assert all(np.array_equal(default[k], stepped[k]) for k in default)
    assert not np.array_equal(default["alice"], usual["alice"])
    plain = dlnmf.train(train, method="nmf", sizes=[5], iters=5).meta["inference"]
    assert "step_exponent" not in plain and plain["iterations"] == 200
    with pytest.raises(dlnmf.Error, match="step exponent"):
        dlnmf.train(train, method="nmf", sizes=[5], iters=5, step_exponent=2.5)


def test_train_at_another_rate_resamples_arrays(speech):
    a = dlnmf.train({"alice": (speech["alice"]["train"], 16000)}, method="nmf", sizes=[4], iters=5, rate=8000)
    assert a.sample_rate == 8000 and a.meta["stft"]["fft_size"] == 512


def test_train_refusals():
    x = np.sin(np.arange(16000) / 7.0)
    with pytest.raises(dlnmf.Error, match="too few to hold back"):
        dlnmf.train({"a": [x], "b": [x]}, preset="paper")
    with pytest.raises(dlnmf.Error, match="method"):
        dlnmf.train({"a": [x]}, method="pca")
    with pytest.raises(ValueError, match="NaN"):
        dlnmf.train({"a": [np.full(100, np.nan)]}, method="nmf")
    with pytest.raises(ValueError, match="1-D"):
        dlnmf.train({"a": [np.ones((2, 100))]}, method="nmf")
    with pytest.raises(ValueError, match="not a folder"):
        dlnmf.train({"a": "/no/such/folder"}, method="nmf")
    with pytest.raises(dlnmf.Error, match="name"):
        dlnmf.train({"../a": [x]}, method="nmf", iters=1)
    with pytest.raises(ValueError, match="iters must be"):
        dlnmf.train({"a": [x]}, method="nmf", iters=0)
    with pytest.raises(dlnmf.Error, match="layer size"):
        dlnmf.train({"a": [x]}, method="lnmf", sizes=[10, 0], iters=1)
