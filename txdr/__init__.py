"""txdr: the dr stack's activation, run by the on-call engineer from a workstation or CI runner."""
