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
    private volatile bool _stopping;
    private Exception? _error;

    public int Threads { get; }

    public WorkerPool(int threads)
    {
        Threads = Math.Max(1, threads);
        _threads = new Thread[Threads - 1];
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
    public void Run<T>(int count, ref T job) where T : struct, IParallelJob
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
        Volatile.Write(ref _next, (gen << 32) | int.MaxValue);
        runner.Job = job;
        _current = runner;
        _count = count;
        _error = null;
        Volatile.Write(ref _done, 0);
        Volatile.Write(ref _next, gen << 32);
        int helpers = Math.Min(_threads.Length, count - 1);
        for (int i = 0; i < helpers; i++)
            if (_wake[i].CurrentCount == 0) _wake[i].Release();
        Drain(runner, gen, count);
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) < count) spin.SpinOnce(sleep1Threshold: -1);
        job = runner.Job;
        _current = null;
        if (_error is { } e) throw new AggregateException("a CPU kernel failed", e);
    }

    private void Drain(Runner runner, long gen, int count)
    {
        while (true)
        {
            long v = Volatile.Read(ref _next);
            if (v >> 32 != gen || (int)v >= count) return;
            if (Interlocked.CompareExchange(ref _next, v + 1, v) != v) continue;
            try
            {
                runner.Execute((int)v);
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
            var runner = _current;
            int count = _count;
            if (runner is not null && Volatile.Read(ref _next) >> 32 == v >> 32) Drain(runner, v >> 32, count);
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
