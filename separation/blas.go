package separation

// Separation runs OpenBLAS on one thread (openblas.HoldSingle, taken by
// Separate, SeparateStream, Gains and a Live's Push and Finish), whatever
// else the process runs. OpenBLAS rounds its products differently with one
// thread and with several, and the engine's solver holds one thread while
// it runs: without the hold, a separation's Wiener products would round one
// way alone and another while a concurrent call's solver held the count,
// so a server or a Python program separating in parallel would not give
// the bytes of one call at a time. The engine parallelises inference over
// column blocks itself (nmf.Settings.Workers), so little is lost.
