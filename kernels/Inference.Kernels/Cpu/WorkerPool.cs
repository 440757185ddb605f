namespace Inference.Kernels.Cpu;

/// <summary>One unit of parallel work; Execute(i) is called once for every i in [0, count).</summary>
public interface IParallelJob
{
    void Execute(int index);
}

/// <summary>
/// Persistent threads that run struct jobs without allocating: the caller thread works too, items are
/// claimed one at a time with an interlocked counter, and workers spin briefly before sleeping so the
/// many small ops of a decode step do not pay a wake-up each.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private abstract class Runner
    {
        public abstract void Execute(int index);
    }

    private sealed class Runner<T> : Runner where T : struct, IParallelJob
    {
        public T Job;
        public override void Execute(int index) => Job.Execute(index);
    }

    private static class Slot<T> where T : struct, IParallelJob
    {
        public static readonly int Id = Interlocked.Increment(ref s_nextSlot);
    }

    private static int s_nextSlot;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private Runner?[] _runners = new Runner?[16];
    private Runner? _current;
    private int _count;
    // (generation << 32) | next index: a worker that wakes late can only claim items of the job it saw.
    private long _next;
    private int _generation;
    private int _done;
    private bool _contiguous;
    // Per thread (caller 0, worker i at i + 1), one cache line apart: (generation << 32) | (front << 16) | back.
    private readonly long[] _ranges;
    private const int RangeStride = 8;
    private volatile bool _stopping;
    private Exception? _error;

    public int Threads { get; }

    public WorkerPool(int threads)
    {
        Threads = Math.Max(1, threads);
        _threads = new Thread[Threads - 1];
        _ranges = new long[Threads * RangeStride];
        _wake = new SemaphoreSlim[Threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            int id = i;
            _threads[i] = new Thread(() => WorkerLoop(id)) { IsBackground = true, Name = $"inference-cpu-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>
    /// Runs job.Execute(i) for i in [0, count) across the pool and returns when all are done. The caller
    /// waits for finished items, not for every worker to check in, so a worker the OS has not scheduled yet
    /// (a busy shared machine) costs nothing: the caller simply runs its share.
    /// </summary>
    public void Run<T>(int count, ref T job) where T : struct, IParallelJob => Run(count, ref job, contiguous: false);

    /// <summary>
    /// Like <see cref="Run{T}(int, ref T)"/>, but each thread owns a contiguous run of the items and works through
    /// it front to back, then takes items from the back of the others' runs. For items that are consecutive
    /// pieces of one memory stream (a decode matvec's weight rows): each thread reads one long stream, which the
    /// prefetchers keep at full speed, and a thread the OS delays still leaves its items to the others.
    /// </summary>
    public void RunContiguous<T>(int count, ref T job) where T : struct, IParallelJob =>
        Run(count, ref job, contiguous: count <= MaxContiguous);

    /// <summary>Items a contiguous run can hold (16-bit front and back in a range word).</summary>
    public const int MaxContiguous = 0xFFFF;

    private void Run<T>(int count, ref T job, bool contiguous) where T : struct, IParallelJob
    {
        if (count <= 0) return;
        if (count == 1 || _threads.Length == 0)
        {
            for (int i = 0; i < count; i++) job.Execute(i);
            return;
        }
        int slot = Slot<T>.Id;
        if (slot >= _runners.Length) Array.Resize(ref _runners, Math.Max(slot + 1, _runners.Length * 2));
        var runner = (Runner<T>?)_runners[slot] ?? (Runner<T>)(_runners[slot] = new Runner<T>());
        // Close the new generation before touching the job, so a late worker of the previous one cannot
        // pair the old generation with the new job.
        long gen = ++_generation;
        // A full fence: none of the stores below may become visible before the close (weaker memory models than x64).
        Interlocked.Exchange(ref _next, (gen << 32) | int.MaxValue);
        runner.Job = job;
        _current = runner;
        _count = count;
        _error = null;
        int helpers = Math.Min(_threads.Length, count - 1);
        _contiguous = contiguous;
        if (contiguous)
        {
            // Thread p owns items [count*p/P, count*(p+1)/P); threads beyond the participants own nothing.
            int parts = helpers + 1;
            for (int p = 0; p < Threads; p++)
            {
                long f = p < parts ? (long)count * p / parts : 0, b = p < parts ? (long)count * (p + 1) / parts : 0;
                Volatile.Write(ref _ranges[p * RangeStride], (gen << 32) | (f << 16) | b);
            }
        }
        Volatile.Write(ref _done, 0);
        // Contiguous: the shared counter opens already exhausted, claims go through the ranges.
        Volatile.Write(ref _next, (gen << 32) | (contiguous ? (long)count : 0));
        for (int i = 0; i < helpers; i++)
            if (_wake[i].CurrentCount == 0) _wake[i].Release();
        if (contiguous) DrainRanges(runner, gen, 0);
        else Drain(runner, gen, count);
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) < count) spin.SpinOnce(sleep1Threshold: -1);
        job = runner.Job;
        _current = null;
        if (_error is { } e) throw new AggregateException("a CPU kernel failed", e);
    }

    /// <summary>Claims from thread <paramref name="self"/>'s own range (front first), then from the back of the others'.</summary>
    private void DrainRanges(Runner runner, long gen, int self)
    {
        for (int i = 0; i < Threads; i++)
        {
            int owner = (self + i) % Threads;
            ref long range = ref _ranges[owner * RangeStride];
            while (true)
            {
                long v = Volatile.Read(ref range);
                if (v >> 32 != gen) return;
                int front = (int)(v >> 16) & 0xFFFF, back = (int)v & 0xFFFF;
                if (front >= back) break;
                bool own = i == 0;
                long claimed = own ? v + (1L << 16) : v - 1;
                if (Interlocked.CompareExchange(ref range, claimed, v) != v) continue;
                Execute(runner, own ? front : back - 1);
            }
        }
    }

    private void Execute(Runner runner, int index)
    {
        try
        {
            runner.Execute(index);
        }
        catch (Exception e)
        {
            _error = e;
        }
        finally
        {
            Interlocked.Increment(ref _done);
        }
    }

    private void Drain(Runner runner, long gen, int count)
    {
        while (true)
        {
            long v = Volatile.Read(ref _next);
            if (v >> 32 != gen || (int)v >= count) return;
            if (Interlocked.CompareExchange(ref _next, v + 1, v) != v) continue;
            Execute(runner, (int)v);
        }
    }

    private void WorkerLoop(int id)
    {
        while (true)
        {
            // Spin first: during a decode step the next op arrives within microseconds.
            if (!_wake[id].Wait(0))
            {
                var spin = new SpinWait();
                bool got = false;
                for (int i = 0; i < 200 && !got; i++)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    got = _wake[id].Wait(0);
                }
                if (!got) _wake[id].Wait();
            }
            if (_stopping) return;
            // Read the generation before the job: if a newer job replaced it meanwhile, the claim fails. A
            // generation still closed (Run is between closing and opening it) must be waited out: its job and
            // count are not published yet, and pairing them with it once it opens ran the previous job's items
            // under the new generation, so the done count overshot and Run waited forever.
            long v = Volatile.Read(ref _next);
            var wait = new SpinWait();
            while ((int)v == int.MaxValue && !_stopping)
            {
                wait.SpinOnce(sleep1Threshold: -1);
                v = Volatile.Read(ref _next);
            }
            // Stopping while a generation is still closed: its range words may already be written, and claiming
            // from them before Run resets the done count would lose an item's count.
            if (_stopping) return;
            // Acquire reads, so the generation re-check below cannot be answered before them.
            var runner = Volatile.Read(ref _current);
            int count = Volatile.Read(ref _count);
            bool contiguous = Volatile.Read(ref _contiguous);
            if (runner is null || Volatile.Read(ref _next) >> 32 != v >> 32) continue;
            if (contiguous) DrainRanges(runner, v >> 32, id + 1);
            else Drain(runner, v >> 32, count);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var w in _wake) w.Release();
        foreach (var t in _threads) t.Join();
        foreach (var w in _wake) w.Dispose();
    }
}
