using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Inference.Bench -- --filter '*'   (or *DecodeStep* etc.)
BenchmarkSwitcher.FromAssembly(typeof(Inference.Bench.KernelBenchmarks).Assembly).Run(args);
