using Inference.Kernels.Ilgpu;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Inference.Tests.Ilgpu;

/// <summary>Marks a test class whose tests need a CUDA GPU; without one they are reported as skipped.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresCudaAttribute : Attribute;

/// <summary>A fact that is skipped, with the reason, when its class needs CUDA and none is present.</summary>
[XunitTestCaseDiscoverer("Inference.Tests.Ilgpu.DeviceFactDiscoverer", "Inference.Kernels.Ilgpu.Tests")]
public sealed class DeviceFactAttribute : FactAttribute;

/// <summary>A theory that is skipped, with the reason, when its class needs CUDA and none is present.</summary>
[XunitTestCaseDiscoverer("Inference.Tests.Ilgpu.DeviceTheoryDiscoverer", "Inference.Kernels.Ilgpu.Tests")]
public sealed class DeviceTheoryAttribute : TheoryAttribute;

/// <summary>Why a test class cannot run here (null when it can).</summary>
public static class DeviceSkip
{
    private static readonly Lazy<string?> s_cuda = new(() =>
        IlgpuBackend.CudaAvailable(out string reason) ? null : $"needs a CUDA GPU ({reason})");

    public static string? For(ITypeInfo testClass) =>
        testClass.GetCustomAttributes(typeof(RequiresCudaAttribute)).Any() ? s_cuda.Value : null;
}

/// <summary>A test case whose skip reason comes from its class's device needs.</summary>
public sealed class DeviceTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public DeviceTestCase() { }

    public DeviceTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method, object?[]? args = null)
        : base(sink, display, options, method, args) { }

    protected override string? GetSkipReason(IAttributeInfo factAttribute) =>
        DeviceSkip.For(TestMethod.TestClass.Class) ?? base.GetSkipReason(factAttribute);
}

/// <summary>Discovers <see cref="DeviceFactAttribute"/> tests.</summary>
public sealed class DeviceFactDiscoverer(IMessageSink sink) : FactDiscoverer(sink)
{
    protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo attribute) =>
        new DeviceTestCase(DiagnosticMessageSink, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method);
}

/// <summary>Discovers <see cref="DeviceTheoryAttribute"/> tests: one skipped case when the device is missing.</summary>
public sealed class DeviceTheoryDiscoverer(IMessageSink sink) : TheoryDiscoverer(sink)
{
    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo attribute)
    {
        if (DeviceSkip.For(method.TestClass.Class) is null) return base.Discover(options, method, attribute);
        return [new DeviceTestCase(DiagnosticMessageSink, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method)];
    }
}
