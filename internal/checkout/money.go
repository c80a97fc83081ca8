package checkout

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Stripe charges in the currency's smallest unit: cents for USD (19.99 →
// 1999), but whole units for a zero-decimal currency such as JPY (599 → 599)
// and thousandths for the three-decimal ones. These are Stripe's lists
// (docs.stripe.com/currencies): a currency not named is two-decimal.
var (
	zeroDecimal = map[string]bool{
		"BIF": true, "CLP": true, "DJF": true, "GNF": true, "JPY": true, "KMF": true, "KRW": true,
		"MGA": true, "PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true, "XAF": true,
		"XOF": true, "XPF": true,
	}
	threeDecimal = map[string]bool{"BHD": true, "JOD": true, "KWD": true, "OMR": true, "TND": true}
)

// ErrAmount is returned for a price that has no exact amount in the
// currency's minor unit (¥5.5, a negative or non-finite price).
var ErrAmount = errors.New("price not representable in the currency's minor unit")

// Decimals is the number of decimal places of currency's minor unit in Stripe.
func Decimals(currency string) int {
	c := strings.ToUpper(currency)
	switch {
	case zeroDecimal[c]:
		return 0
	case threeDecimal[c]:
		return 3
	}
	return 2
}

// ToMinor converts a price in major units to Stripe's integer minor units
// without float arithmetic: the price's shortest decimal form (the digits a
// person typed, 19.99, not 19.989999…) is shifted by the currency's decimals.
func ToMinor(price float64, currency string) (int64, error) {
	if math.IsNaN(price) || math.IsInf(price, 0) || price < 0 {
		return 0, ErrAmount
	}
	s := strconv.FormatFloat(price, 'f', -1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	d := Decimals(currency)
	frac = strings.TrimRight(frac, "0")
	if len(frac) > d {
		return 0, ErrAmount
	}
	digits := strings.TrimLeft(whole+frac+strings.Repeat("0", d-len(frac)), "0")
	if digits == "" {
		return 0, nil
	}
	if len(digits) > 15 { // beyond float64's exact integers and any price Stripe accepts
		return 0, ErrAmount
	}
	return strconv.ParseInt(digits, 10, 64)
}

// FromMinor converts Stripe's integer minor units to major units, the
// number stored in orders.amount (1999 USD → 19.99, 599 JPY → 599). The
// value is parsed from its decimal text, so it is the float nearest the
// exact amount.
func FromMinor(amount int64, currency string) float64 {
	d := Decimals(currency)
	neg := amount < 0
	if neg {
		amount = -amount
	}
	s := strconv.FormatInt(amount, 10)
	if d > 0 {
		if len(s) <= d {
			s = strings.Repeat("0", d-len(s)+1) + s
		}
		s = s[:len(s)-d] + "." + s[len(s)-d:]
	}
	f, _ := strconv.ParseFloat(s, 64)
	if neg {
		return -f
	}
	return f
}
