"""Which slips in form are recovered into (U, V), and which stay failures?"""

from __future__ import annotations

import torch

from labgrade.harness.judging.forms import Returned, describe_recovery, read_factors

M, N, R = 3, 4, 2  # m != n, so a swapped pair can be told apart


def _t(*shape: int, dtype: torch.dtype = torch.float32) -> Returned:
    return Returned(torch.rand(*shape, dtype=dtype))


def test_the_lab_form_has_no_fault() -> None:
    reading = read_factors([_t(M, R), _t(N, R)], "tuple", 2, (M, N, R))
    assert reading.factors is not None and reading.faults == () and reading.failure is None


def test_transposed_v_is_read_from_the_shapes() -> None:
    u, v = _t(M, R), _t(R, N)
    reading = read_factors([u, v], "tuple", 2, (M, N, R))
    assert reading.factors is not None and tuple(reading.factors[1].shape) == (N, R)
    assert v.tensor is not None and torch.equal(reading.factors[1], v.tensor.t())
    assert describe_recovery(reading.faults) == (
        "returned V transposed, shape (2, 4); graded as if you returned V",
        "return V, not V.t()",
    )


def test_a_swapped_pair_is_recovered_only_where_the_shapes_tell() -> None:
    swapped = read_factors([_t(N, R), _t(M, R)], "tuple", 2, (M, N, R))
    assert swapped.factors is not None and [f.message for f in swapped.faults] == ["returned (V, U)"]
    square = read_factors([_t(3, R), _t(3, R)], "tuple", 2, (3, 3, R))
    assert square.faults == ()  # with m == n nothing says they were swapped: graded as returned


def test_extra_values_after_u_and_v_are_dropped_but_not_before() -> None:
    three = read_factors([_t(M, R), _t(N, R), Returned(None, "list")], "tuple", 3, (M, N, R))
    assert three.factors is not None and "returned 3 values" in three.faults[0].message
    loss_first = read_factors([Returned(None, "float"), _t(M, R), _t(N, R)], "tuple", 3, (M, N, R))
    assert loss_first.factors is None and loss_first.failure is not None


def test_forms_are_one_fault_each() -> None:
    """A list converts to float64 in the child: that is the list's fault, not a second dtype fault."""
    lists = [
        Returned(torch.rand(M, R, dtype=torch.float64), form="list"),
        Returned(torch.rand(N, R, dtype=torch.float64), form="list"),
    ]
    reading = read_factors(lists, "tuple", 2, (M, N, R))
    assert describe_recovery(reading.faults)[0] == "returned U and V as Python lists; graded as if you returned (U, V)"
    grad = [Returned(torch.rand(M, R), requires_grad=True), _t(N, R)]
    assert [f.message for f in read_factors(grad, "tuple", 2, (M, N, R)).faults] == [
        "returned U with requires_grad=True"
    ]


def test_float64_from_set_default_dtype_is_counted_by_its_diagnosis_only() -> None:
    doubles = [_t(M, R, dtype=torch.float64), _t(N, R, dtype=torch.float64)]
    assert len(read_factors(doubles, "tuple", 2, (M, N, R)).faults) == 2
    assert read_factors(doubles, "tuple", 2, (M, N, R), changed_dtype="torch.float64").faults == ()


def test_what_is_not_clearly_recoverable_stays_a_failure() -> None:
    cases = {
        "single tensor": read_factors([_t(M, N)], None, 1, (M, N, R)),
        "wrong shape": read_factors([_t(M, R + 1), _t(N, R)], "tuple", 2, (M, N, R)),
        "integers": read_factors([Returned(torch.ones(M, R, dtype=torch.int64)), _t(N, R)], "tuple", 2, (M, N, R)),
        "NaN": read_factors([Returned(torch.full((M, R), float("nan"))), _t(N, R)], "tuple", 2, (M, N, R)),
        "subclass": read_factors([Returned(None, "tensor subclass Liar"), _t(N, R)], "tuple", 2, (M, N, R)),
    }
    for name, reading in cases.items():
        assert reading.factors is None and reading.failure is not None, name
    assert cases["single tensor"].failure == (
        "returned a single tensor; expected a tuple (U, V) of two tensors",
        "end with `return U, V`",
    )
    assert "dtype torch.int64" in cases["integers"].failure[0]
