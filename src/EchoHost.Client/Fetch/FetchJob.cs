namespace EchoHost.Client.Fetch;

/// <summary>One URL to download, the file name it gets in the output folder, and the SHA-256 it must have, if known.</summary>
internal sealed record FetchJob(Uri Url, string FileName, byte[]? Sha256);
