package webhooks

// FanOutTxs counts the fan-out transactions that moved events into
// deliveries, for the tests of the readers' coalescing.
func (s *Service) FanOutTxs() int64 { return s.fanOutTxs.Load() }
