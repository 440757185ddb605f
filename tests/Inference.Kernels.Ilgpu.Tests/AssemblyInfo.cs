// Several ILGPU CPU accelerators running at once in one process made a paged-attention case fail now and
// then (never when run alone); each accelerator already uses every core, so running the classes one at a
// time costs little and keeps the suite deterministic.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
