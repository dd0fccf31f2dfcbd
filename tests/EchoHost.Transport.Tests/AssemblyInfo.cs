// One test at a time: the suite reads the process's own descriptors and CPU time, which a test running beside it would move.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
