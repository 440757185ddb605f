using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Inference.Bench -- --filter '*'   (or *DecodeStep* etc.)
// dotnet run -c Release --project bench/Inference.Bench -- step-ops --model DIR [...]   (a decode step, op by op)
if (args.Length > 0 && args[0] == "step-ops") return Inference.Bench.StepOps.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Inference.Bench.KernelBenchmarks).Assembly).Run(args);
return 0;
