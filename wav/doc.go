// Package wav reads and writes RIFF/WAVE and FLAC audio files as float64
// samples.
//
// Conventions:
//   - Samples are float64 with full scale 1.0, one slice per channel:
//     Audio.Channels[c][i] is sample i of channel c. Integer PCM is scaled by
//     2^(bits-1) (8-bit PCM is unsigned and offset by 128 first), so the most
//     negative code maps to exactly -1.
//   - Decode reads PCM 8, 16, 24 and 32-bit integers, IEEE float 32 and 64-bit,
//     and the same inside WAVE_FORMAT_EXTENSIBLE. Chunks it does not use (LIST,
//     fact, cue, the TSP corpus's extra chunks, ...) are skipped, honouring the
//     pad byte after odd-sized chunks.
//   - Every malformed input gives an error saying what is wrong; the decoder
//     never panics (FuzzDecode checks this) and never allocates more than a
//     small multiple of the input size, whatever the header claims.
//     ReadFile and WriteFile prefix errors with the file name.
//   - Reader (NewReader, Open) and Writer (NewWriter, Create) stream audio
//     piece by piece as mono samples, in memory that does not grow with the
//     file. Decode and Reader walk the header through the same code, so they
//     accept the same files and give the same errors (FuzzReader checks
//     this); Writer writes Encode's bytes. Create writes atomically, like
//     WriteFile: the file appears when Close succeeds, never half-written.
//   - A pipe reads as the same bytes in a file do (the same samples): an
//     *os.File that cannot seek is read straight through. A WAV data size
//     that is a writer's placeholder for "unknown" (0, or nearly 4 GiB, as
//     sox, arecord and ffmpeg write to a pipe and a killed live writer
//     leaves in a file) means the audio runs to the end. Reader copies
//     such a stream into an unnamed temporary file first, so that Frames
//     is known, as for any file.
//   - Errors of a FLAC stream start with "flac:", of a WAV one with "wav:"
//     (or with the file name, for ReadFile and Open).
//   - FLAC is read wherever WAV is (ReadFile, Decode, Open, NewReader
//     recognise the "fLaC" signature, also behind an ID3v2 tag): 4 to 32
//     bits per sample, 1 to 8 channels (down-mixed by Reader as for WAV);
//     Audio.Encoding is the PCM encoding that holds the file's depth (12
//     bits read as PCM16, 20 as PCM24), and codes are scaled by
//     2^(bits-1) of the file's own depth. A truncated stream, a frame that
//     fails its checksum or disagrees with STREAMINFO is an error naming
//     the frame. Writer writes mono FLAC (NewFormatWriter, CreateFormat)
//     of 8, 16 or 24-bit PCM; the decoded FLAC of a file may be much larger
//     than the file (it is compressed), but never more than STREAMINFO's
//     sample count.
//   - Other formats (MP3, Ogg, MP4/M4A, AIFF, ...) are recognised by their
//     first bytes and the error names the ffmpeg or sox command that
//     converts them.
//   - Encode writes PCM (reporting how many samples clipped, that is lay
//     outside [-1, 1] or were NaN) and IEEE float, which never clips.
//
// What it holds: WAV reading and writing (wav.go, decode.go, encode.go,
// stream.go), a FLAC decoder and writer (flacdec.go, flac.go) and streams
// of unknown length for live use (live.go): every container dlnmf reads
// and writes, behind one Reader and one Writer.
//
// Why not a library: the Go WAV readers we looked at (go-audio/wav being the
// most used) decode into integer buffers rather than float64 and do not give
// the precise errors for truncated or malformed files that this project
// requires; the FLAC decoder is our own for speed (mewkiz/flac, used to
// write and to check it in tests, decodes several times slower).
package wav
