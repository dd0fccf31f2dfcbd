using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(EchoHost.Benchmarks.ProtocolBenchmarks).Assembly).Run(args);
