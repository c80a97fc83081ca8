package checkout

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToMinor(t *testing.T) {
	tenth, fifth := 0.1, 0.2
	cases := []struct {
		price    float64
		currency string
		want     int64
		bad      bool
	}{
		{19.99, "USD", 1999, false},
		{599, "USD", 59900, false},
		{tenth + fifth, "USD", 0, true}, // 0.30000000000000004 is not a price
		{99.5, "EUR", 9950, false},
		{0.01, "usd", 1, false},
		{1.005, "USD", 0, true},
		{5990, "JPY", 5990, false},
		{599.5, "JPY", 0, true},
		{12.34, "KWD", 12340, false},
		{12.345, "KWD", 12345, false},
		{0, "USD", 0, false},
		{-1, "USD", 0, true},
		{math.NaN(), "USD", 0, true},
		{math.Inf(1), "USD", 0, true},
		{134499878.95, "USD", 13449987895, false},
		{1e300, "USD", 0, true},
	}
	for _, c := range cases {
		got, err := ToMinor(c.price, c.currency)
		if c.bad {
			assert.Error(t, err, "%v %s", c.price, c.currency)
			continue
		}
		require.NoError(t, err, "%v %s", c.price, c.currency)
		assert.Equal(t, c.want, got, "%v %s", c.price, c.currency)
	}
}

func TestFromMinor(t *testing.T) {
	assert.Equal(t, 19.99, FromMinor(1999, "USD"))
	assert.Equal(t, 0.05, FromMinor(5, "usd"))
	assert.Equal(t, 5990.0, FromMinor(5990, "JPY"))
	assert.Equal(t, 12.345, FromMinor(12345, "KWD"))
	assert.Equal(t, 0.0, FromMinor(0, "EUR"))
	assert.Equal(t, "USD 599.00", FormatAmount(599, "USD"))
	assert.Equal(t, "JPY 5990", FormatAmount(5990, "JPY"))
}

// FuzzMinorRoundTrip: every amount Stripe can charge converts to major units
// and back to itself, in every kind of currency.
func FuzzMinorRoundTrip(f *testing.F) {
	for _, n := range []int64{0, 1, 99, 1999, 59900, 123456789012} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		if n < 0 || n > 999_999_999_999 {
			return
		}
		for _, cur := range []string{"USD", "JPY", "KWD"} {
			major := FromMinor(n, cur)
			back, err := ToMinor(major, cur)
			if err != nil || back != n {
				t.Fatalf("%d %s → %s → %d (%v)", n, cur, strconv.FormatFloat(major, 'f', -1, 64), back, err)
			}
		}
	})
}
