// Run-log readers live here.
