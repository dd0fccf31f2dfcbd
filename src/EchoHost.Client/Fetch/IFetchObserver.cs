namespace EchoHost.Client.Fetch;

/// <summary>What a run tells its display: a download started; then, through what that returns, its bytes and its end.</summary>
internal interface IFetchObserver
{
    IDownloadObserver Started(FetchJob job);
}

internal interface IDownloadObserver
{
    /// <summary>A chunk of the body arrived; <paramref name="total"/> comes first, alone, when the size is announced.</summary>
    void Received(long chunk, long? total);

    void Finished(DownloadResult result);
}
