package mnist

import (
	"fmt"
	"io"

	"github.com/confcal/confcal/dataset"
)

// mirrors are the canonical MNIST mirrors, tried in order (replaceable in tests). yann.lecun.com is
// the original site; the others are the copies torchvision and TensorFlow use.
var mirrors = []string{
	"https://ossci-datasets.s3.amazonaws.com/mnist/",
	"https://storage.googleapis.com/cvdf-datasets/mnist/",
	"http://yann.lecun.com/exdb/mnist/",
}

// sha256s are the SHA-256 digests of the four canonical .gz files (the GoMNIST module's copies are
// byte-identical); replaceable in tests.
var sha256s = map[string]string{
	"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
	"train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
	"t10k-images-idx3-ubyte.gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
	"t10k-labels-idx1-ubyte.gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

// downloadFile fetches name into cacheDir from the first mirror that delivers it with the right
// SHA-256, reporting progress, and returns its path. A file already in cacheDir is kept as it is.
func downloadFile(cacheDir, name string, progress io.Writer) (string, error) {
	want, ok := sha256s[name]
	if !ok {
		return "", fmt.Errorf("no known SHA-256 for %s", name)
	}
	r := dataset.Remote{Name: name, SHA256: want}
	for _, m := range mirrors {
		r.URLs = append(r.URLs, m+name)
	}
	return dataset.Fetch(cacheDir, r, true, progress)
}
