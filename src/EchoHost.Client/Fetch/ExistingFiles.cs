namespace EchoHost.Client.Fetch;

/// <summary>What fetch does about a file already in the output folder, and about a partial one from an earlier run.</summary>
internal enum ExistingFiles
{
    /// <summary>The default: a finished file is left as it is and reported as "exists"; a partial one is started over.</summary>
    Skip,

    /// <summary><c>--overwrite</c>: every URL is downloaded again and replaces its file.</summary>
    Overwrite,

    /// <summary><c>--continue</c>: a finished file is left as it is; a partial one is resumed where it broke off.</summary>
    Continue,
}
